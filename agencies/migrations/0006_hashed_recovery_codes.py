"""Recovery codes were kept in clear text (django-otp's default); this hashes them in place.

Everyone's codes keep working: the code step hashes what is typed the same way. The hash is
frozen here rather than imported, so that later changes to the services cannot change what
this migration did.
"""

from typing import Any

from django.conf import settings
from django.db import migrations
from django.utils.crypto import salted_hmac

SALT = "agencies.signin.recovery_code"
DIGEST_LENGTH = 16


def digest(token: str) -> str:
    code = "".join(token.split()).replace("-", "").lower()
    return salted_hmac(SALT, code, secret=settings.SECRET_KEY, algorithm="sha256").hexdigest()[:DIGEST_LENGTH]


def hash_tokens(apps: Any, schema_editor: Any) -> None:
    static_token = apps.get_model("otp_static", "StaticToken")
    tokens = list(static_token.objects.using(schema_editor.connection.alias).only("pk", "token"))
    for token in tokens:
        token.token = digest(token.token)
    static_token.objects.using(schema_editor.connection.alias).bulk_update(tokens, ["token"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("agencies", "0005_data_protection_officer_role"),
        ("otp_static", "0003_add_timestamps"),
    ]

    # Going back leaves the hashes: the codes cannot be recovered from them, so people make new ones.
    operations = [migrations.RunPython(hash_tokens, migrations.RunPython.noop, elidable=False)]
