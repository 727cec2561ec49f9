"""Queue entry points for import jobs: load by id, call the service."""

from collections.abc import Callable

from .importing import import_job_crashed, import_job_validate, import_job_write
from .models import ImportJob


def _run(job_id: int, step: Callable[[ImportJob], ImportJob]) -> None:
    """Run one step; if it raises, the job says so instead of hanging in 'checking'."""
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    try:
        step(job)
    except Exception:
        import_job_crashed(job)
        raise


def validate_import(job_id: int) -> None:
    _run(job_id, import_job_validate)


def commit_import(job_id: int) -> None:
    _run(job_id, import_job_write)
