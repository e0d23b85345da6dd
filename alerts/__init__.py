"""Early warning of unsold produce, the response to it, and matchmaking."""

from flask import Blueprint, Flask

bp = Blueprint("alerts", __name__, template_folder="templates", url_prefix="/alerts")


def init_app(app: Flask) -> None:
    from alerts import api as alerts_api
    from alerts import models, tasks, views  # noqa: F401  (registers models, the periodic task and routes)
    from alerts.cli import alerts_cli
    from alerts.config import load_settings
    from alerts.views_matching import init_app as init_matching  # matchmaking (产销对接): pages, API, demo
    from alerts.views_outreach import init_app as init_outreach  # recommended units, outreach, conversion
    from alerts.views_planlag import init_app as init_plan_lag  # plan-lag warnings: pages, API, workspace global
    from core.extensions import api
    from core.permissions import Permission
    from core.templating import add_nav_item

    load_settings(app)
    init_matching(app)
    init_plan_lag(app)
    init_outreach(app)
    app.register_blueprint(bp)
    api.register_blueprint(alerts_api.blp)
    app.cli.add_command(alerts_cli)
    add_nav_item(app, "alerts.board", views.BOARD_LABEL, Permission.ALERTS_VIEW, order=40)
    add_nav_item(app, "alerts.notifications", views.NotificationsLabel(), Permission.ACCOUNT, order=90)
    app.jinja_env.globals.update(alert_level_label=views.level_label, alert_cause_label=views.cause_label,
                                 alert_playbook_label=views.playbook_label,
                                 alert_status_label=views.status_label, alert_action_label=views.action_label,
                                 alert_figure_label=views.figure_label)
