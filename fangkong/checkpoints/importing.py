"""Excel import of duty rosters: every row checked and shown, then all rows or none.

Two steps, as the people import: the upload is read and each row checked (a preview
listing the assignments, or every bad row with its reason); the commit, signed with the
preview's rows, checks them again against the database and writes them in one
transaction. Columns: 单位编码 (the site), 卡口编码, 岗位, 轮班日 (1 … the rotation's
days), 值守人员账号 (a user holding the guard role at the site).
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core import signing
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from fangkong.accounts.actors import Actor
from fangkong.accounts.models import User
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import require_perm, scope_for
from fangkong.core.errors import InvalidInput
from fangkong.core.exports import xlsx_bytes
from fangkong.core.sheets import Columns, cell_of, read_table, read_upload, refuse_row_errors
from fangkong.core.text import clean_cell, compact

from .models import Post
from .services import guards_of, roster_set

MAX_ROWS = 5_000
SIGNING_SALT = "checkpoints.roster-import"
COLUMNS = Columns(
    fields={
        "site_code": ("单位编码", "站点编码", "site_code"),
        "checkpoint_code": ("卡口编码", "卡口", "checkpoint_code"),
        "post": ("岗位", "岗位名称", "post"),
        "day": ("轮班日", "第几天", "day"),
        "guard": ("值守人员账号", "账号", "用户名", "guard"),
    },
    required=(("site_code",), ("checkpoint_code",), ("post",), ("day",), ("guard",)),
)
TEMPLATE_EXAMPLES = [
    ["SDLY-P1", "G1", "白班", 1, "guard"],
    ["SDLY-P1", "G1", "白班", 2, "guard"],
]


@dataclass(frozen=True)
class Assignment:
    row: int
    post: Post
    day_index: int
    guard: User


def template_workbook() -> bytes:
    return xlsx_bytes(COLUMNS.template_headers(), TEMPLATE_EXAMPLES, title="值守排班")


class _Lookup:
    """Posts and guards by their names in the file, each looked up once, in the scope."""

    def __init__(self, actor: Actor) -> None:
        self.scope = scope_for(actor, Perm.MANAGE_CHECKPOINTS)
        self.posts: dict[tuple[str, str, str], Post | None] = {}
        self.guards: dict[tuple[str, str], User | None] = {}

    def post(self, site: str, checkpoint: str, name: str) -> Post | None:
        key = (site, checkpoint, name)
        if key not in self.posts:
            rows = Post.objects.filter(
                checkpoint__site__code=site, checkpoint__code=checkpoint, name=name, is_active=True
            )
            self.posts[key] = self.scope.filter(
                rows.select_related("checkpoint"), "site_path"
            ).first()
        return self.posts[key]

    def guard(self, post: Post, username: str) -> User | None:
        key = (post.site_path, username)
        if key not in self.guards:
            self.guards[key] = guards_of(post.site_path).filter(username=username).first()
        return self.guards[key]


def _read_row(
    cells: list[Any], positions: dict[str, int], lookup: _Lookup
) -> tuple[tuple[Post, int, User] | None, list[tuple[str, str, str]]]:
    site = compact(cell_of(cells, positions, "site_code")).upper()
    checkpoint = compact(cell_of(cells, positions, "checkpoint_code")).upper()
    name = clean_cell(cell_of(cells, positions, "post"))
    post = lookup.post(site, checkpoint, name)
    if post is None:
        where = f"{site} {checkpoint} {name}"
        return None, [("岗位", where, _("No such post at a checkpoint you manage."))]
    raw_day = compact(cell_of(cells, positions, "day"))
    try:
        day = int(float(raw_day))
    except ValueError:
        day = 0
    if not 1 <= day <= post.period_days:
        message = _("The day of rotation is 1 to %(n)d.") % {"n": post.period_days}
        return None, [("轮班日", raw_day, message)]
    username = clean_cell(cell_of(cells, positions, "guard"))
    guard = lookup.guard(post, username)
    if guard is None:
        return None, [("值守人员账号", username, _("No guard of this site has this account."))]
    return (post, day - 1, guard), []


def parse_rows(actor: Actor, path: Path) -> list[Assignment]:
    """Read and check every row; raise InvalidInput listing every bad row."""
    table = read_table(path, COLUMNS)
    lookup = _Lookup(actor)
    found: list[Assignment] = []
    errors: list[dict[str, Any]] = []
    seen: dict[tuple[int, int], int] = {}
    for read, row in enumerate(table.rows, start=1):
        if read > MAX_ROWS:
            raise InvalidInput(_("At most %(n)d rows per file.") % {"n": MAX_ROWS})
        if row.problem is not None:
            result = None
            problems = [(row.problem.column, row.problem.value, row.problem.message)]
        else:
            result, problems = _read_row(row.cells, table.positions, lookup)
        if result is not None and (result[0].pk, result[1]) in seen:
            first = seen[(result[0].pk, result[1])]
            message = _("This post and day are already in row %(row)d.") % {"row": first}
            problems, result = [("轮班日", str(result[1] + 1), message)], None
        for column, value, message in problems:
            errors.append({"row": row.number, "column": column, "value": value, "message": message})
        if result is not None:
            seen[(result[0].pk, result[1])] = row.number
            found.append(Assignment(row.number, *result))
    refuse_row_errors(errors, found)
    return found


def roster_preview(*, actor: Actor, upload: UploadedFile) -> tuple[list[Assignment], str]:
    """Check an uploaded roster; return its assignments and the token that commits them."""
    require_perm(actor, Perm.MANAGE_CHECKPOINTS)
    assignments = read_upload(upload, lambda path: parse_rows(actor, path))
    rows = [(a.row, a.post.pk, a.day_index, a.guard.pk) for a in assignments]
    return assignments, signing.dumps(rows, salt=SIGNING_SALT)


@transaction.atomic
def roster_commit(*, actor: Actor, token: str) -> int:
    """Write a previewed roster: every assignment or none. Return how many were written."""
    require_perm(actor, Perm.MANAGE_CHECKPOINTS)
    try:
        rows = signing.loads(token, salt=SIGNING_SALT, max_age=3600)
    except signing.BadSignature:
        raise InvalidInput(_("The preview has expired; upload the file again.")) from None
    by_post: dict[int, dict[int, User | None]] = {}
    users = User.objects.in_bulk({row[3] for row in rows})
    for _row, post_id, day_index, guard_id in rows:
        by_post.setdefault(post_id, {})[day_index] = users.get(guard_id)
    posts = Post.objects.in_bulk(list(by_post))
    for post_id, assignments in by_post.items():
        post = posts.get(post_id)
        if post is None or None in assignments.values():
            raise InvalidInput(_("The roster changed since the preview; upload the file again."))
        roster_set(actor=actor, post=post, assignments=assignments)  # re-checks scope and guards
    return len(rows)
