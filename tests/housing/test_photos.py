"""Photos: checked by content, re-encoded without metadata, served only to those who see the flat."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils.translation import gettext
from PIL import Image

from housing import services
from housing.models import ListingPhoto, ListingShare
from hub.models import AuditEntry
from tests.housing.helpers import Housing, jpeg_upload, make_listing

pytestmark = pytest.mark.django_db


def client_for(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def test_a_photo_is_resized_stripped_and_thumbnailed(housing: Housing) -> None:
    listing = make_listing(housing)
    photo = services.photo_add(actor=housing.hana, listing=listing, photo=jpeg_upload(), caption="Küche")
    assert (photo.width, photo.height) == (1600, 1200)
    with photo.image.open("rb") as handle, Image.open(handle) as stored:
        assert stored.format == "JPEG" and max(stored.size) == 1600
        assert not stored.getexif() and "exif" not in stored.info
    with photo.thumbnail.open("rb") as handle, Image.open(handle) as thumb:
        assert max(thumb.size) == 400
    assert AuditEntry.objects.filter(action="listing.photo_add", target_id=str(photo.pk)).exists()
    assert listing.history.filter(action="listing.photo_add").exists()


@pytest.mark.parametrize(
    "upload",
    [
        SimpleUploadedFile("wohnung.jpg", b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n" * 100, content_type="image/jpeg"),
        SimpleUploadedFile("leer.jpg", b"", content_type="image/jpeg"),
        SimpleUploadedFile("text.png", b"not an image at all", content_type="image/png"),
    ],
    ids=["pdf-renamed-jpg", "empty", "text"],
)
def test_what_is_not_a_photo_is_refused_and_nothing_is_stored(housing: Housing, upload: SimpleUploadedFile) -> None:
    listing = make_listing(housing)
    with pytest.raises(ValidationError) as error:
        services.photo_add(actor=housing.hana, listing=listing, photo=upload)
    assert "photo" in error.value.message_dict
    assert not ListingPhoto.objects.exists()


def test_a_30_mb_file_is_refused(housing: Housing) -> None:
    listing = make_listing(housing)
    big = SimpleUploadedFile("riesig.jpg", b"%PDF-" + b"0" * (30 * 1024 * 1024), content_type="image/jpeg")
    with pytest.raises(ValidationError) as error:
        services.photo_add(actor=housing.hana, listing=listing, photo=big)
    assert "10 MB" in error.value.message_dict["photo"][0]
    assert not ListingPhoto.objects.exists()


def test_a_decompression_bomb_is_refused_before_decoding(housing: Housing) -> None:
    listing = make_listing(housing)
    # A tiny file claiming 20000 × 20000 pixels: 400 megapixels once decoded.
    out = io.BytesIO()
    Image.new("1", (20000, 20000)).save(out, format="PNG", optimize=True)
    assert out.tell() < 10 * 1024 * 1024
    bomb = SimpleUploadedFile("bombe.png", out.getvalue(), content_type="image/png")
    with pytest.raises(ValidationError) as error:
        services.photo_add(actor=housing.hana, listing=listing, photo=bomb)
    assert error.value.message_dict["photo"][0] == gettext(
        "The photo has too many pixels (at most %(limit)d megapixels)."
    ) % {"limit": 40}
    assert not ListingPhoto.objects.exists()


def test_only_the_owners_housing_officers_add_or_delete_photos(housing: Housing) -> None:
    w = housing.world
    listing = make_listing(housing)
    for actor in (w.bob, w.alice, housing.theo):
        with pytest.raises(PermissionDenied):
            services.photo_add(actor=actor, listing=listing, photo=jpeg_upload())
    photo = services.photo_add(actor=housing.hana, listing=listing, photo=jpeg_upload(width=800, height=600))
    with pytest.raises(PermissionDenied):
        services.photo_delete(actor=w.bob, photo=photo)
    services.photo_delete(actor=housing.hana, photo=photo)
    assert not ListingPhoto.objects.exists()


def test_photo_urls_answer_only_those_who_see_the_listing(housing: Housing) -> None:
    w = housing.world
    listing = make_listing(housing)
    photo = services.photo_add(actor=housing.hana, listing=listing, photo=jpeg_upload(width=800, height=600))
    for name in ("listing-photo", "listing-photo-thumbnail"):
        url = reverse(name, args=[photo.pk])
        for user in (housing.hana, w.alice, w.carol, w.rita):
            response = client_for(user).get(url)
            assert response.status_code == 200, user
            assert response["Content-Type"] == "image/jpeg" and response["X-Content-Type-Options"] == "nosniff"
            assert "private" in response["Cache-Control"]
        assert client_for(w.olga).get(url).status_code == 404
        assert Client().get(url).status_code == 302
    # Unsharing ends the view at once, photos included.
    ListingShare.objects.filter(listing=listing).delete()
    assert client_for(w.alice).get(reverse("listing-photo", args=[photo.pk])).status_code == 404
    assert client_for(housing.hana).get(reverse("listing-photo", args=[photo.pk])).status_code == 200
