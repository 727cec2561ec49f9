import os
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[3]


def test_production_settings_pass_the_deploy_check(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "FANGKONG_ENV": "production",
        "SECRET_KEY": "a-long-random-production-secret-key-0123456789-abcdefghijkl",
        "ALLOWED_HOSTS": "fangkong.example.org",
        "DATABASE_URL": "sqlite:///" + str(tmp_path / "deploy-check.sqlite3"),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_chinese_is_the_default_language_and_shanghai_the_time_zone():
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai"


def test_every_string_has_a_chinese_translation():
    catalogue = polib.pofile(str(ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    untranslated = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert not untranslated, untranslated[:20]
    assert not fuzzy, fuzzy[:20]
    compiled = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.mo"
    assert compiled.stat().st_mtime >= (compiled.with_suffix(".po")).stat().st_mtime - 1


def test_a_production_worker_keeps_its_sqlite_connection_between_requests(tmp_path):
    # Opening a SQLite connection (pragmas) and closing it (WAL checkpoint) cost more than
    # a declaration at the morning peak: production keeps it, as on PostgreSQL.
    env = {
        **os.environ,
        "FANGKONG_ENV": "production",
        "SECRET_KEY": "a-long-random-production-secret-key-0123456789-abcdefghijkl",
        "ALLOWED_HOSTS": "fangkong.example.org",
        "DATABASE_URL": "sqlite:///" + str(tmp_path / "kept.sqlite3"),
    }
    code = "from config import settings; print(settings.DATABASES['default']['CONN_MAX_AGE'])"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert int(done.stdout) == 60


def test_a_sqlite_file_opens_in_wal_with_the_long_checkpoint_interval(tmp_path):
    # SQLite ignores a misspelt PRAGMA: read back what a file database runs with.
    import sqlite3

    database = sqlite3.connect(tmp_path / "pragmas.sqlite3")
    try:
        database.executescript(settings.SQLITE_OPTIONS["init_command"])
        read = {
            pragma: database.execute(f"PRAGMA {pragma}").fetchone()[0]
            for pragma in (
                "journal_mode",
                "synchronous",
                "wal_autocheckpoint",
                "busy_timeout",
                "mmap_size",
            )
        }
    finally:
        database.close()
    assert read == {
        "journal_mode": "wal",
        "synchronous": 1,  # NORMAL
        "wal_autocheckpoint": 10000,
        "busy_timeout": 10000,
        "mmap_size": 0,  # read(), not a map that every checkpoint makes grow (settings)
    }


@pytest.mark.django_db
def test_postgresql_runs_our_statements_without_parallel_workers():
    # The roll-up's range sums got two workers at seeds scale and took several times longer.
    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL setting")
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        assert cursor.fetchone()[0] == "0"
