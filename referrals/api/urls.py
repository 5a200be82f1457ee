from rest_framework.routers import DefaultRouter

from referrals.api import persons, plans

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
persons.register(router)
plans.register(router)

urlpatterns = router.urls
