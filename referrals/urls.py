from django.urls import path

# Persons, consents, shares, referrals and the inbox.
person_urls: list = []
# Profiling, plans, measures, enrollments, transfers and recognition.
plan_urls: list = []

urlpatterns = [*person_urls, *plan_urls]
