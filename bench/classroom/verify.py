"""After a run: were the submissions the clients saw acknowledged really stored? (issue 6's kill test)

Run by the benchmark as `python -m bench.classroom.verify IN.json` with the environment of the data
setup (CLASSNOTE_HOME, or DATABASE_URL and the rest for the scale-out). IN.json holds the run's
school code and, per student number, how many submits the client got a 302 for. Prints JSON:
acknowledged, stored (current and earlier submissions of those students in the school's boxes),
acknowledged_lost (per student max(0, acknowledged − stored), summed) and the students concerned.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def main(path: Path) -> dict[str, object]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "classnote.settings")
    import django

    django.setup()
    from django.db.models import Count

    from classnote.lessons.models import Submission

    wanted = json.loads(path.read_text(encoding="utf-8"))
    acked: dict[str, int] = {str(k): int(v) for k, v in wanted["acked"].items()}
    stored = dict(
        Submission.objects.filter(student__school__code=wanted["school_code"], student__student_number__in=list(acked))
        .values_list("student__student_number")
        .annotate(n=Count("pk"))
        .values_list("student__student_number", "n")
    )
    lost = {number: n - stored.get(number, 0) for number, n in acked.items() if n > stored.get(number, 0)}
    result: dict[str, object] = {
        "students_with_acknowledged": len(acked),
        "acknowledged": sum(acked.values()),
        "stored": sum(stored.get(number, 0) for number in acked),
        "acknowledged_lost": sum(lost.values()),
        "lost_students": sorted(lost)[:50],
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main(Path(sys.argv[1]))
