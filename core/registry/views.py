from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from core.errors import DomainError
from core.extensions import db
from core.pagination import paginate
from core.permissions import Permission, require
from core.registry import imports, services
from core.registry.forms import ImportForm
from core.registry.models import Household, HouseholdKind, Region, RegionLevel

bp = Blueprint("registry", __name__, url_prefix="/admin/registry")


@bp.get("/regions")
@bp.get("/regions/<int:region_id>")
@require(Permission.REGISTRY_VIEW)
def regions(region_id: int | None = None):
    if region_id is None:
        if current_user.region is not None:
            region = current_user.region
        else:
            region = None
    else:
        region = services.get_region(region_id)
        if not services.user_may_see_region(current_user, region):
            abort(403)
    if region is None:
        children = db.session.execute(
            sa.select(Region).where(Region.level == RegionLevel.PROVINCE).order_by(Region.code)
        ).scalars().all()
        trail = []
    else:
        children = db.session.execute(
            sa.select(Region).where(Region.parent_id == region.id).order_by(Region.code)
        ).scalars().all()
        trail = [r for r in services.ancestors(region) if services.user_may_see_region(current_user, r)]
    counts = services.children_counts([c.id for c in children])
    household_counts = _household_counts(children)
    return render_template(
        "registry/regions.html", region=region, children=children, trail=trail, counts=counts,
        household_counts=household_counts,
    )


def _household_counts(regions: list[Region]) -> dict[int, tuple[int, int]]:
    """Households and people under each region, in one grouped query."""
    if not regions:
        return {}
    village = sa.orm.aliased(Region)
    parent = sa.orm.aliased(Region)
    rows = db.session.execute(
        sa.select(parent.id, sa.func.count(Household.id), sa.func.coalesce(sa.func.sum(Household.member_count), 0))
        .select_from(Household)
        .join(village, village.id == Household.village_id)
        .join(parent, village.path.startswith(parent.path))
        .where(parent.id.in_([r.id for r in regions]))
        .group_by(parent.id)
    ).all()
    return {rid: (n, people) for rid, n, people in rows}


@bp.get("/households")
@require(Permission.REGISTRY_VIEW)
def households():
    kind = request.args.get("kind", "")
    q = (request.args.get("q") or "").strip()[:40]
    village = sa.orm.aliased(Region)
    stmt = (
        sa.select(Household, village)
        .join(village, village.id == Household.village_id)
        .where(services.region_scope(current_user, Household.village_id))
        .order_by(Household.id)
    )
    if kind in {k.value for k in HouseholdKind}:
        stmt = stmt.where(Household.kind == HouseholdKind(kind))
    if q:
        stmt = stmt.where(sa.or_(Household.head_name.contains(q, autoescape=True),
                                 village.name.contains(q, autoescape=True)))
    page = paginate(stmt, per_page=50)
    return render_template("registry/households.html", page=page, kind=kind, q=q, kinds=list(HouseholdKind))


@bp.route("/import", methods=["GET", "POST"])
@require(Permission.REGISTRY_IMPORT)
def import_file():
    form = ImportForm()
    result = None
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        importer = imports.import_households if form.kind.data == "households" else imports.import_regions
        try:
            result = importer(upload.filename, upload.read(), all_or_nothing=form.all_or_nothing.data,
                              user=current_user)
        except DomainError as err:
            db.session.rollback()
            form.file.errors.append(err.message)
            status = 422
        else:
            if result.written:
                db.session.commit()
            else:
                db.session.rollback()
            status = 200 if result.ok else 422
    elif form.errors:
        status = 422
    return render_template("registry/import.html", form=form, result=result), status


@bp.get("/import/template.<kind>.csv")
@require(Permission.REGISTRY_IMPORT)
def import_template(kind: str):
    if kind == "households":
        body = "village_code,kind,head_name,member_count,id_number,phone\n"
    elif kind == "regions":
        body = "code,name,level,parent_code,poverty_lifted,key_assistance\n"
    else:
        abort(404)
    return body, 200, {"Content-Type": "text/csv; charset=utf-8",
                       "Content-Disposition": f"attachment; filename={kind}-template.csv"}


__all__ = ["_", "bp"]
