"""Queue entry points for import jobs: load by id, call the service."""

from .importing import import_job_crashed, import_job_validate, import_job_write
from .models import ImportJob


def _load(job_id: int) -> ImportJob:
    return ImportJob.objects.select_related("created_by").get(pk=job_id)


def validate_import(job_id: int) -> None:
    job = _load(job_id)
    try:
        import_job_validate(job)
    except Exception:
        import_job_crashed(job)
        raise


def commit_import(job_id: int) -> None:
    job = _load(job_id)
    try:
        import_job_write(job)
    except Exception:
        import_job_crashed(job)
        raise
