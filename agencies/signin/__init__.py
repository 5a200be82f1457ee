"""Sign-in security: the password and second-factor steps, blocking of guessing, session limits.

Django's ``ModelBackend`` still checks passwords; django-otp holds the authenticator apps (TOTP)
and the one-time recovery codes (static tokens). This package adds the two-step login, the
per-agency requirement, the failure counting and the session limits around them.
"""
