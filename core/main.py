"""Home page, language switch and the administrators' start page."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user

from core.extensions import db
from core.permissions import Permission, require
from core.registry.models import Household, Region, RegionLevel
from core.registry.services import region_scope

bp = Blueprint("main", __name__)


@bp.get("/")
def home():
    # Domains contribute sections to the home page (in season, urgent sale, ...).
    sections = [provider() for provider in current_app.extensions.get("home_sections", [])]
    return render_template("home.html", sections=[s for s in sections if s])


@bp.post("/language")
def set_language():
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
        if current_user.is_authenticated:
            current_user.locale = lang
            db.session.commit()
    target = request.form.get("next") or url_for("main.home")
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("main.home")
    return redirect(target)


@bp.get("/admin/")
@require(Permission.ADMIN_DASHBOARD)
def admin_home():
    households = db.session.execute(
        sa.select(sa.func.count(Household.id), sa.func.coalesce(sa.func.sum(Household.member_count), 0)).where(
            region_scope(current_user, Household.village_id)
        )
    ).one()
    counties = db.session.execute(
        sa.select(
            sa.func.count(Region.id),
            sa.func.count(Region.id).filter(Region.is_poverty_lifted_county),
            sa.func.count(Region.id).filter(Region.is_key_assistance_county),
        ).where(Region.level == RegionLevel.COUNTY, region_scope(current_user, Region.id))
    ).one()
    links = [entry() for entry in current_app.extensions.get("admin_links", [])]
    return render_template("admin/home.html", households=households, counties=counties, links=[x for x in links if x])
