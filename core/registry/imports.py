"""Importing regions and households from CSV or XLSX.

Every row is checked before anything is written. Good rows go in and each bad
row comes back with its line number and reason; with ``all_or_nothing`` a
single bad row stops the whole file. Writing happens in the caller's one
transaction, so a failure part-way leaves nothing behind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_babel import gettext as _

from core import audit
from core.errors import DomainError
from core.extensions import db
from core.permissions import Role
from core.personal_data import normalise_phone
from core.registry.models import Household, HouseholdKind, Region, RegionLevel
from core.registry.services import CHILD_LEVEL, prepare_household_identity, region_scope, user_may_see_region
from core.tabular import MAX_ROWS, ImportResult, RowError, map_header, parse_flag, pick, read_table

if TYPE_CHECKING:
    from core.accounts.models import User

REGION_COLUMNS = {
    "code": ("代码", "区划代码"),
    "name": ("名称", "name"),
    "level": ("级别", "层级"),
    "parent_code": ("上级代码", "parent"),
    "poverty_lifted": ("脱贫县",),
    "key_assistance": ("重点帮扶县",),
}
LEVEL_WORDS = {
    "province": RegionLevel.PROVINCE, "省": RegionLevel.PROVINCE,
    "city": RegionLevel.CITY, "市": RegionLevel.CITY,
    "county": RegionLevel.COUNTY, "区县": RegionLevel.COUNTY, "县": RegionLevel.COUNTY, "区": RegionLevel.COUNTY,
    "township": RegionLevel.TOWNSHIP, "乡镇": RegionLevel.TOWNSHIP, "乡": RegionLevel.TOWNSHIP,
    "镇": RegionLevel.TOWNSHIP, "街道": RegionLevel.TOWNSHIP,
    "village": RegionLevel.VILLAGE, "村": RegionLevel.VILLAGE, "社区": RegionLevel.VILLAGE,
}

HOUSEHOLD_COLUMNS = {
    "village_code": ("村代码", "村级代码"),
    "kind": ("类别", "户类型"),
    "head_name": ("户主姓名", "户主"),
    "member_count": ("家庭人口", "人口数"),
    "id_number": ("户主身份证号", "身份证号"),
    "phone": ("联系电话", "手机号"),
}
KIND_WORDS = {
    "poverty_lifted": HouseholdKind.POVERTY_LIFTED, "脱贫户": HouseholdKind.POVERTY_LIFTED,
    "monitored": HouseholdKind.MONITORED, "监测户": HouseholdKind.MONITORED,
    "监测对象": HouseholdKind.MONITORED,
}


def _too_many(result: ImportResult, line: int) -> bool:
    if line > MAX_ROWS + 1:
        result.errors.append(RowError(line, _("The file has more than %(n)d rows; split it.", n=MAX_ROWS)))
        return True
    return False


def _may_write_under(user: User | None, parent: Region | None) -> bool:
    """Whether ``user`` may add or change a region directly under ``parent`` (None: a province).

    No user (the command line) may write anywhere; a platform administrator too; a
    regional administrator only below the root of their own subtree.
    """
    if user is None:
        return True
    if parent is None:
        return user.role == Role.PLATFORM_ADMIN
    return user_may_see_region(user, parent)


def import_regions(
    filename: str, data: bytes, *, all_or_nothing: bool = False, user: User | None = None
) -> ImportResult:
    """Import regions; ``user`` (None from the command line) limits the rows to the regions they may write."""
    header, rows = read_table(filename, data)
    positions = map_header(header, REGION_COLUMNS, {"code", "name", "level"})
    result = ImportResult()
    parsed: list[dict] = []
    seen: dict[str, int] = {}
    rejected: dict[str, int] = {}  # code → line, for rows refused here, so that their children can say why
    for line, cells in rows:
        if _too_many(result, line):
            break
        code = pick(cells, positions, "code")
        name = pick(cells, positions, "name")
        level = LEVEL_WORDS.get(pick(cells, positions, "level").lower())
        parent_code = pick(cells, positions, "parent_code")
        poverty = parse_flag(pick(cells, positions, "poverty_lifted"))
        key = parse_flag(pick(cells, positions, "key_assistance"))
        problem = None
        if not code.isdigit() or len(code) not in (6, 9, 12):
            problem = _("code “%(code)s” must have 6, 9 or 12 digits", code=code)
        elif not name or len(name) > 80:
            problem = _("name is missing or longer than 80 characters")
        elif level is None:
            problem = _("level must be one of province, city, county, township, village (省/市/区县/乡镇/村)")
        elif poverty is None or key is None:
            problem = _("flags must be 是/否, yes/no or 1/0")
        elif (poverty or key) and level != RegionLevel.COUNTY:
            problem = _("only a county can be a poverty-lifted or key assistance county")
        elif level == RegionLevel.PROVINCE and parent_code:
            problem = _("a province has no parent")
        elif level != RegionLevel.PROVINCE and not parent_code:
            problem = _("parent_code is required below province level")
        elif code in seen:
            problem = _("code %(code)s repeats line %(line)d", code=code, line=seen[code])
        if problem:
            result.errors.append(RowError(line, problem))
            if code and code not in seen:
                rejected.setdefault(code, line)
            continue
        seen[code] = line
        parsed.append({"line": line, "code": code, "name": name, "level": level, "parent_code": parent_code or None,
                       "poverty": poverty, "key": key})

    codes = {r["code"] for r in parsed} | {r["parent_code"] for r in parsed if r["parent_code"]}
    existing = {
        r.code: r for r in db.session.execute(sa.select(Region).where(Region.code.in_(codes))).scalars()
    } if codes else {}
    by_code = {r["code"]: r for r in parsed}

    # Resolve parents: in the file or already registered. A child of a rejected
    # row is rejected too, in file order, so the reasons read top to bottom.
    accepted: list[dict] = []
    ok_codes: set[str] = set()
    for row in sorted(parsed, key=lambda r: r["level"].depth):
        pcode = row["parent_code"]
        if row["level"] == RegionLevel.PROVINCE:
            parent_level = None
        elif pcode in by_code and pcode in ok_codes:
            parent_level = by_code[pcode]["level"]
        elif pcode in existing:
            parent_level = existing[pcode].level
        elif pcode in by_code or pcode in rejected:
            parent_line = by_code[pcode]["line"] if pcode in by_code else rejected[pcode]
            result.errors.append(RowError(row["line"], _("parent %(code)s was rejected (line %(line)d)",
                                                          code=pcode, line=parent_line)))
            continue
        else:
            result.errors.append(RowError(row["line"], _("parent code %(code)s is not registered", code=pcode)))
            continue
        if parent_level is not None and CHILD_LEVEL.get(parent_level) != row["level"]:
            result.errors.append(RowError(row["line"], _("a %(level)s cannot sit under a %(parent)s",
                                                          level=row["level"].value, parent=parent_level.value)))
            continue
        if pcode not in ok_codes and not _may_write_under(user, existing.get(pcode) if pcode else None):
            result.errors.append(RowError(row["line"], _("region %(code)s is outside your region", code=row["code"])))
            continue
        current = existing.get(row["code"])
        if current is not None and (current.level != row["level"] or
                                    (current.parent.code if current.parent else None) != pcode):
            result.errors.append(RowError(row["line"], _("code %(code)s is already registered at another place "
                                                          "in the tree", code=row["code"])))
            continue
        ok_codes.add(row["code"])
        accepted.append(row)
    result.errors.sort(key=lambda e: e.line)
    if all_or_nothing and result.errors:
        result.written = False
        return result

    # Write level by level: a handful of bulk statements, not one per row.
    for depth in range(len(RegionLevel)):
        level_rows = [r for r in accepted if r["level"].depth == depth]
        if not level_rows:
            continue
        parent_codes = {r["parent_code"] for r in level_rows if r["parent_code"]}
        parents = {
            p.code: p for p in db.session.execute(sa.select(Region).where(Region.code.in_(parent_codes))).scalars()
        } if parent_codes else {}
        for row in level_rows:
            current = existing.get(row["code"])
            if current is not None:
                changed = (current.name, current.is_poverty_lifted_county, current.is_key_assistance_county) != (
                    row["name"], row["poverty"], row["key"])
                current.name = row["name"]
                current.is_poverty_lifted_county = row["poverty"]
                current.is_key_assistance_county = row["key"]
                result.updated += int(changed)
                continue
            parent = parents.get(row["parent_code"]) if row["parent_code"] else None
            region = Region(code=row["code"], name=row["name"], level=row["level"], parent=parent,
                            is_poverty_lifted_county=row["poverty"], is_key_assistance_county=row["key"], path="")
            db.session.add(region)
            result.created += 1
        db.session.flush()
        # Paths in one statement per level: parent path + own id.
        new_ids = db.session.execute(
            sa.select(Region.id, Region.parent_id).where(Region.code.in_([r["code"] for r in level_rows]),
                                                         Region.path == "")
        ).all()
        if new_ids:
            parent_paths = dict(db.session.execute(
                sa.select(Region.id, Region.path).where(Region.id.in_({p for _, p in new_ids if p}))
            ).all()) if any(p for _, p in new_ids) else {}
            db.session.execute(
                sa.update(Region),
                [{"id": rid, "path": f"{parent_paths.get(pid, '/') if pid else '/'}{rid}/"} for rid, pid in new_ids],
            )
        db.session.expire_all()
    audit.record("registry.regions_imported", "import", filename,
                 after={"created": result.created, "updated": result.updated, "rejected": len(result.errors)})
    return result


def import_households(
    filename: str, data: bytes, *, all_or_nothing: bool = False, user: User | None = None
) -> ImportResult:
    """Import households; ``user`` (None from the command line) limits the rows to villages in their region."""
    header, rows = read_table(filename, data)
    positions = map_header(header, HOUSEHOLD_COLUMNS, {"village_code", "kind", "head_name", "member_count",
                                                        "id_number"})
    result = ImportResult()
    parsed: list[dict] = []
    seen_hash: dict[str, int] = {}
    for line, cells in rows:
        if _too_many(result, line):
            break
        try:
            kind = KIND_WORDS.get(pick(cells, positions, "kind").lower())
            if kind is None:
                raise _RowProblem(_("kind must be 脱贫户 or 监测户 (poverty_lifted or monitored)"))
            head = pick(cells, positions, "head_name")
            if not head or len(head) > 40:
                raise _RowProblem(_("head of household name is missing or longer than 40 characters"))
            members_raw = pick(cells, positions, "member_count")
            if not members_raw.isdigit() or not 1 <= int(members_raw) <= 30:
                raise _RowProblem(_("member count must be a whole number from 1 to 30"))
            digest, masked = prepare_household_identity(pick(cells, positions, "id_number"))
            phone_raw = pick(cells, positions, "phone")
            phone = normalise_phone(phone_raw) if phone_raw else None
        except _RowProblem as exc:
            result.errors.append(RowError(line, exc.message))
            continue
        except DomainError as exc:
            # Messages about the ID number never echo the number itself.
            result.errors.append(RowError(line, exc.message))
            continue
        if digest in seen_hash:
            result.errors.append(RowError(line, _("same ID number as line %(line)d", line=seen_hash[digest])))
            continue
        seen_hash[digest] = line
        parsed.append({"line": line, "village_code": pick(cells, positions, "village_code"), "kind": kind,
                       "head_name": head, "member_count": int(members_raw), "hash": digest, "masked": masked,
                       "phone": phone})

    village_codes = {r["village_code"] for r in parsed}
    villages = dict(db.session.execute(
        sa.select(Region.code, Region.id).where(Region.code.in_(village_codes), Region.level == RegionLevel.VILLAGE)
    ).all()) if village_codes else {}
    existing: dict[str, tuple[int, int]] = {}  # hash → (household id, its village id)
    hashes = [r["hash"] for r in parsed]
    for start in range(0, len(hashes), 1000):
        existing.update((digest, (household_id, village_id)) for digest, household_id, village_id in db.session.execute(
            sa.select(Household.id_number_hash, Household.id, Household.village_id).where(
                Household.id_number_hash.in_(hashes[start:start + 1000]))
        ))
    in_scope: set[int] | None = None  # villages the user may write to; None: all
    if user is not None:
        candidates = set(villages.values()) | {village_id for _, village_id in existing.values()}
        in_scope = set(db.session.execute(
            sa.select(Region.id).where(Region.id.in_(candidates), region_scope(user, Region.id))
        ).scalars()) if candidates else set()

    inserts, updates = [], []
    for row in parsed:
        village_id = villages.get(row["village_code"])
        if village_id is None:
            result.errors.append(RowError(row["line"], _("village code “%(code)s” is not a registered village",
                                                          code=row["village_code"])))
            continue
        current = existing.get(row["hash"])
        if in_scope is not None and village_id not in in_scope:
            result.errors.append(RowError(row["line"], _("village code “%(code)s” is outside your region",
                                                          code=row["village_code"])))
            continue
        if in_scope is not None and current is not None and current[1] not in in_scope:
            # Re-importing would move a household out of another region's registry.
            result.errors.append(RowError(row["line"], _("a household with this ID number is registered outside "
                                                          "your region")))
            continue
        values = {"village_id": village_id, "kind": row["kind"], "head_name": row["head_name"],
                  "member_count": row["member_count"], "phone": row["phone"]}
        if current is not None:
            updates.append({"id": current[0], **values})
        else:
            inserts.append({"id_number_hash": row["hash"], "id_number_masked": row["masked"], **values})
    result.errors.sort(key=lambda e: e.line)
    if all_or_nothing and result.errors:
        result.written = False
        return result
    if inserts:
        db.session.execute(sa.insert(Household), inserts)
    if updates:
        db.session.execute(sa.update(Household), updates)
    result.created, result.updated = len(inserts), len(updates)
    audit.record("registry.households_imported", "import", filename,
                 after={"created": result.created, "updated": result.updated, "rejected": len(result.errors)})
    return result


class _RowProblem(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
