from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from classnote.lessons.models import Submission


class BoxForm(forms.Form):
    static_fields = True  # see classnote.core.templatetags.classnote_forms
    title = forms.CharField(label=_("Task"), max_length=120)
    deadline = forms.DateTimeField(
        label=_("Deadline (optional)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


class ReturnForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    # The tile renders these choices; the action checks the value (as for the API).
    mark = forms.ChoiceField(label=_("Mark"), choices=[("", _("No mark")), *Submission.Mark.choices], required=False)


class GroupForm(forms.Form):
    static_fields = True  # see classnote.core.templatetags.classnote_forms
    name = forms.CharField(label=_("Group name"), max_length=80)
