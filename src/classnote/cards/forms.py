from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from classnote.cards.models import Background, Card


class NewCardForm(forms.Form):
    static_fields = True  # no field depends on the request: classnote_forms.static_form may reuse its rendering
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[
            (Card.Kind.TEXT, _("Text")),
            (Card.Kind.DRAWING, _("Drawing")),
            (Card.Kind.LINK, _("Web link")),
            (Card.Kind.IMAGE, _("Image")),
            (Card.Kind.FILE, _("File")),
        ],
    )
    title = forms.CharField(label=_("Title"), max_length=120, required=False)
    background = forms.ChoiceField(label=_("Thinking tool"), choices=Background.choices, required=False)
    link_url = forms.URLField(label=_("Web link"), max_length=2000, required=False, assume_scheme="https")
    # No `capture` attribute: tablets then offer both the camera and the photo library / files.
    upload = forms.FileField(
        label=_("Photo or file"),
        required=False,
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/*,application/pdf,.docx,.xlsx,.pptx,.odt,.ods,.odp,audio/*,video/*"}
        ),
    )
    lesson = forms.IntegerField(required=False, widget=forms.HiddenInput)
    library = forms.ChoiceField(choices=Card.Library.choices, required=False, widget=forms.HiddenInput)
    next = forms.CharField(required=False, max_length=500, widget=forms.HiddenInput)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        kind = data.get("kind")
        if kind == Card.Kind.LINK and not data.get("link_url"):
            self.add_error("link_url", _("Enter the web link."))
        if kind in (Card.Kind.IMAGE, Card.Kind.FILE) and not data.get("upload"):
            self.add_error("upload", _("Choose a photo or file."))
        return data
