"""The roster import's upload form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from classnote.roster.reader import MAX_BYTES, MAX_ROWS


class RosterUploadForm(forms.Form):
    """The roster import's first step (classnote.roster): a CSV file and the school year whose classes it fills."""

    file = forms.FileField(label=_("CSV file"))
    school_year = forms.TypedChoiceField(label=_("School year of the classes"), coerce=int, choices=[])

    def __init__(self, *args: Any, years: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["school_year"]
        field.choices = [(year, str(year)) for year in years]  # type: ignore[attr-defined]
        field.initial = years[0] if years else None
        self.fields["file"].widget.attrs.update({"accept": ".csv,.txt,text/csv,text/plain"})
        self.fields["file"].help_text = gettext(
            "One pupil per line, with a first line naming the columns: student ID, name, class and, "
            "if your board records it, the reading of the name (学籍番号, 氏名, 学級, よみがな). "
            "UTF-8 or Shift_JIS, at most %(rows)s pupils and %(megabytes)s MB."
        ) % {"rows": f"{MAX_ROWS:,}", "megabytes": MAX_BYTES // (1024 * 1024)}
