"""Queue entry points for import jobs: load by id, call the service."""

from django_q.tasks import async_task

from .importing import import_job_validate, import_job_write
from .models import ImportJob


def validate_import(job_id: int) -> None:
    import_job_validate(ImportJob.objects.select_related("created_by").get(pk=job_id))


def commit_import(job_id: int) -> None:
    import_job_write(ImportJob.objects.select_related("created_by").get(pk=job_id))


def enqueue_validation(job_id: int) -> None:
    async_task("fangkong.orgs.tasks.validate_import", job_id, task_name=f"import-validate-{job_id}")


def enqueue_commit(job_id: int) -> None:
    async_task("fangkong.orgs.tasks.commit_import", job_id, task_name=f"import-commit-{job_id}")
