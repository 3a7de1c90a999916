"""Routes of this part of the app (filled in by the feature that owns it)."""

urlpatterns = []
