from django.urls import URLPattern, path

from referrals.views import measures, persons, plans, referrals

# Persons, consents, shares, referrals and the inbox.
person_urls: list[URLPattern] = [
    path("persons/", persons.person_list, name="person-list"),
    path("persons/new/", persons.person_create, name="person-create"),
    path("persons/<int:pk>/", persons.person_detail, name="person-detail"),
    path("persons/<int:pk>/edit/", persons.person_edit, name="person-edit"),
    path("persons/<int:pk>/household/", persons.person_household, name="person-household"),
    path("persons/<int:pk>/merge/", persons.person_merge, name="person-merge"),
    path("persons/<int:pk>/consents/new/", persons.consent_create, name="consent-create"),
    path("consents/<int:pk>/revoke/", persons.consent_revoke, name="consent-revoke"),
    path("consents/<int:pk>/document/", persons.consent_document, name="consent-document"),
    path("persons/<int:pk>/shares/new/", persons.share_create, name="share-create"),
    path("shares/<int:pk>/end/", persons.share_end, name="share-end"),
    path("persons/<int:pk>/referrals/new/", referrals.referral_create, name="referral-create"),
    path("inbox/", referrals.referral_inbox, name="referral-inbox"),
    path("referrals/", referrals.referral_list, name="referral-list"),
    path("referrals/<int:pk>/", referrals.referral_detail, name="referral-detail"),
    path("referrals/<int:pk>/step/<slug:action>/", referrals.referral_step, name="referral-step"),
    path("referrals/<int:pk>/decline/", referrals.referral_decline, name="referral-decline"),
    path("referrals/<int:pk>/fail/", referrals.referral_fail, name="referral-fail"),
    path("referrals/<int:pk>/complete/", referrals.referral_complete, name="referral-complete"),
    path("referrals/<int:pk>/redirect/", referrals.referral_redirect, name="referral-redirect"),
]
# Profiling, plans, measures, enrollments, transfers and recognition.
plan_urls: list[URLPattern] = [
    path("persons/<int:pk>/profile/", plans.person_profile, name="person-profile"),
    path("persons/<int:pk>/profile/new/", plans.profile_create, name="profile-create"),
    path("profiles/<int:pk>/", plans.profile_detail, name="profile-detail"),
    path("plans/", plans.plan_list, name="plan-list"),
    path("persons/<int:pk>/plans/", plans.person_plans, name="person-plans"),
    path("persons/<int:pk>/plans/new/", plans.plan_create, name="plan-create"),
    path("plans/<int:pk>/", plans.plan_detail, name="plan-detail"),
    path("plans/<int:pk>/edit/", plans.plan_edit, name="plan-edit"),
    path("plans/<int:pk>/agree/", plans.plan_agree, name="plan-agree"),
    path("plans/<int:pk>/close/", plans.plan_close, name="plan-close"),
    path("plans/<int:pk>/print/", plans.plan_print, name="plan-print"),
    path("plans/<int:pk>/steps/new/", plans.plan_step_add, name="plan-step-add"),
    path("plan-steps/<int:pk>/edit/", plans.plan_step_edit, name="plan-step-edit"),
    path("measures/", measures.measure_list, name="measure-list"),
    path("measures/new/", measures.measure_create, name="measure-create"),
    path("measures/<int:pk>/", measures.measure_detail, name="measure-detail"),
    path("measures/<int:pk>/edit/", measures.measure_edit, name="measure-edit"),
    path("measures/<int:pk>/enrol/", measures.measure_enrol, name="measure-enrol"),
    path("enrollments/<int:pk>/cancel/", measures.enrollment_cancel, name="enrollment-cancel"),
    path("enrollments/<int:pk>/complete/", measures.enrollment_complete, name="enrollment-complete"),
    path("transfers/", plans.transfer_list, name="transfer-list"),
    path("persons/<int:pk>/transfers/", plans.person_transfers, name="person-transfers"),
    path("persons/<int:pk>/transfers/new/", plans.transfer_create, name="transfer-create"),
    path("transfers/<int:pk>/", plans.transfer_detail, name="transfer-detail"),
    path("transfers/<int:pk>/complete/", plans.transfer_complete, name="transfer-complete"),
    path("transfers/<int:pk>/cancel/", plans.transfer_cancel, name="transfer-cancel"),
    path("persons/<int:pk>/recognitions/", plans.person_recognitions, name="person-recognitions"),
    path("persons/<int:pk>/recognitions/new/", plans.recognition_create, name="recognition-create"),
    path("recognitions/<int:pk>/edit/", plans.recognition_edit, name="recognition-edit"),
]

urlpatterns = [*person_urls, *plan_urls]
