"""The leadership dashboard, its exports, the manager's "recompute now" and plan editing.

Every branch is fetched with `get_visible_or_404`: a branch outside the user's subtree is a
404 for its dashboard, exports and values alike. The dashboard reads stored values only."""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Count
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.html import _json_script_escapes
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from associations.access import can_manage, get_visible_or_404, require_manage, user_root_branch
from associations.models import Branch
from associations.page_cache import cached_page
from khuyenhoc import measures as catalogue_measures
from khuyenhoc.forms_util import apply_validation_error
from khuyenhoc.page_cache import MONEY, PLANS, REGISTRY
from khuyenhoc.xlsx import xlsx_response
from plans import exports, tasks
from plans.forms import IndicatorDefinitionForm, PlanForm, TargetForm
from plans.models import IndicatorDefinition, OnMap, Plan, RecomputeRun, ReportExport, RunStatus, Target
from plans.on_demand import picked_date_state
from plans.on_demand_views import picked_date_context
from plans.selectors import (
    STALE_AFTER,
    Dashboard,
    dashboard_for,
    dashboard_panels,
    dashboard_panels_on_todays_map,
    dashboard_target_or_none,
    dashboard_targets,
    dashboard_values,
    dashboard_values_version,
    dashboard_version_and_run,
    plan_for_branch_or_none,
)
from plans.services import (
    indicator_definition_save,
    plan_is_used,
    plan_save,
    recompute_request,
    require_indicator_writer,
    target_save,
)
from plans.timeline import children_chart_data, level_year_shares, plan_choices, timeline_chart_data, year_rows

logger = logging.getLogger(__name__)


def _default_branch(user) -> Branch:
    root = user_root_branch(user)
    if root is not None:
        return root
    if user.is_superuser:
        target = Target.objects.filter(plan__is_active=True).select_related("root_branch").first()
        root = target.root_branch if target else Branch.objects.filter(depth=1).first()
        if root is not None:
            return root
    raise Http404


def _branch(request, branch_id: int | None) -> Branch:
    if branch_id is None:
        return _default_branch(request.user)
    return get_visible_or_404(request.user, Branch.objects, pk=branch_id)


def _breadcrumb(user, branch: Branch) -> list[Branch]:
    """From the user's own branch (the top they may open) down to this one (no query on the
    user's own branch: the crumb is the branch itself)."""
    root = user_root_branch(user)
    if root is not None and root.pk == branch.pk:
        return [branch]
    crumbs = branch.ancestors_and_self()
    if root is not None:
        crumbs = crumbs.filter(path__startswith=root.path)
    return list(crumbs)


def _map_and_date(request) -> tuple[str, datetime.date | None]:
    """?map=today (today's map; else the map in force on each date) and ?as_of=yyyy-mm-dd
    (the stored date the branches below are shown for; else the latest)."""
    on_map = OnMap.TODAY if request.GET.get("map") == OnMap.TODAY else OnMap.IN_FORCE
    try:
        as_of = datetime.date.fromisoformat(request.GET.get("as_of", ""))
    except ValueError:
        as_of = None
    return on_map, as_of


@login_required
@require_GET
# Kept until the next write to the plans' tables (a recompute, a target edited), the registry or
# the money records (the panels); a picked date may start its computation: always rendered.
@cached_page(REGISTRY, MONEY, PLANS, bypass=lambda request: "as_of" in request.GET)
def dashboard(request, branch_id: int | None = None):
    branch = _branch(request, branch_id)
    on_map, as_of = _map_and_date(request)
    chosen = None
    if request.GET.get("plan", "").isdigit():
        chosen = plan_for_branch_or_none(branch, int(request.GET["plan"]))
        if chosen is None:
            raise Http404
    today = timezone.localdate()
    choices = plan_choices(branch, today=today)
    # Money on today's map (issue 11): closed records under their successors, split units apart.
    money, scholarships = (
        dashboard_panels_on_todays_map(branch, today=today) if on_map == OnMap.TODAY else dashboard_panels(branch)
    )
    context = {
        "branch": branch,
        "on_map": on_map,
        "as_of": as_of,
        # Carried by the drill-down and breadcrumb links: the same map and date below.
        "view_query": _view_query(on_map, as_of, chosen.pk if chosen else None),
        "breadcrumb": _breadcrumb(request.user, branch),
        "chosen_plan": chosen,
        "plan_choices": choices,
        "money": money,
        "scholarships": scholarships,
        "can_recompute": can_manage(request.user),
    }
    # Without a choice: the current plans; when none is current, every active one (as before).
    targets = dashboard_targets(branch, plan=chosen, plans=None if chosen else choices.current or None)
    # The date picker (issue 11): a picked date not stored yet is being computed (plans.on_demand).
    picked = picked_date_state(targets=targets, as_of=as_of, today=today) if as_of is not None else None
    context.update(picked_date_context(branch, picked, on_map=on_map, plan_id=chosen.pk if chosen else None))
    version, latest_run = dashboard_version_and_run(branch, targets)
    fragment = _targets_fragment(request, context, targets=targets, today=today, version=version)
    # Markers the cached parts replace in the rendered page; unguessable, so no text of the
    # page (a branch's name) can stand in for one.
    token = secrets.token_hex(16)
    plans_marker, charts_marker = f"<!--plans-{token}-->", f"charts-{token}"
    context["plans_html"] = mark_safe(plans_marker)  # noqa: S308 — our own marker
    context["dashboard"] = DashboardHeader(
        computed_at=fragment["computed_at"],
        latest_run=latest_run,
        compute=lambda: _board(context, targets),
    )
    panels = _panels_fragment(request, context)
    context["panels_html"] = panels["html"]
    rest = {
        "dashboardUrl": _dashboard_url_prefix(),
        "viewQuery": context["view_query"],
        "labels": {
            "target": _("Target"),
            "milestone": _("Milestone"),
            "percent": _("Percentage"),
            "turns": _("Award turns"),
            "date": _("Date"),
            "amount": _("Amount (đồng)"),
        },
    }
    # The chart data as json_script writes it, from the two cached parts already encoded
    # (decoding and encoding the targets' series cost more than the rest of a cached page).
    rest_json = json.dumps(rest, cls=DjangoJSONEncoder)[1:]
    encoded = f'{{"targets": {charts_marker}, {panels["charts_json"]}, {rest_json}'
    context["chart_json"] = mark_safe(encoded.translate(_json_script_escapes))  # noqa: S308 — escaped as json_script does
    response = render(request, "plans/dashboard.html", context)
    _splice(response, {plans_marker: fragment["html"], charts_marker: fragment["charts_json"]})
    return response


def _view_query(on_map: str, as_of: datetime.date | None, plan_id: int | None) -> str:
    """The query string the dashboard's links carry: the same map, date and plan below."""
    keep = {"map": on_map} if on_map == OnMap.TODAY else {}
    if as_of is not None:
        keep["as_of"] = as_of.isoformat()
    if plan_id is not None:
        keep["plan"] = plan_id
    return ("?" + urlencode(keep)) if keep else ""


@login_required
@require_GET
def dashboard_children(request, branch_id: int, target_id: int):
    """The branches below `branch` for one target (the drill-down's chart and table), loaded
    when the user opens it on the dashboard: the fragment alone for htmx, else a page of its
    own (the link the dashboard offers without JavaScript). A target that does not cover the
    branch is a 404, as a branch outside the user's subtree."""
    branch = _branch(request, branch_id)
    target = dashboard_target_or_none(branch, target_id)
    if target is None:
        raise Http404
    on_map, as_of = _map_and_date(request)
    plan_id = int(request.GET["plan"]) if request.GET.get("plan", "").isdigit() else None
    context = {
        "branch": branch,
        "target": target,
        "on_map": on_map,
        "as_of": as_of,
        "view_query": _view_query(on_map, as_of, plan_id),
    }
    version = dashboard_values_version(branch, [target])
    html = _children_fragment(request, context, today=timezone.localdate(), version=version)
    if request.headers.get("HX-Request"):
        response = HttpResponse(html, content_type="text/html; charset=utf-8")
    else:
        marker = f"<!--children-{secrets.token_hex(16)}-->"
        context["breadcrumb"] = _breadcrumb(request.user, branch)
        context["children_html"] = mark_safe(marker)  # noqa: S308 — our own marker
        response = render(request, "plans/dashboard_children.html", context)
        _splice(response, {marker: html})
    patch_vary_headers(response, ["HX-Request"])
    return response


def _targets_signature(targets: list) -> list:
    """The targets as stored: their fields, their plans', definitions' and milestones'."""
    return [
        (
            _fingerprint(target),
            _fingerprint(target.plan),
            _fingerprint(target.definition) if target.definition else None,
            [(m.year, str(m.percent)) for m in target.milestones.all()],
        )
        for target in targets
    ]


def _cache_read(key: str):
    """A dashboard fragment from the cache, or None when it is not there or the cache is down
    (the page is then rendered, never refused)."""
    try:
        return cache.get(key)
    except Exception:
        logger.warning("plans: the dashboard cache could not be read", exc_info=True)
        return None


def _cache_write(key: str, fragment) -> None:
    try:
        cache.set(key, fragment, FRAGMENT_SECONDS)
    except Exception:
        logger.warning("plans: the dashboard cache could not be written", exc_info=True)


def _children_fragment(request, context: dict, *, today: datetime.date, version: tuple) -> bytes:
    """The drill-down of one target (`context["target"]`): its chart's data and table of the
    branches below, rendered as the response's UTF-8 bytes. From the cache when the same
    target was rendered from the same stored values (the key holds the branch, the target as
    stored, the map, the date, the links' query, the language, today and the stored values'
    version, as `_targets_fragment`'s: a recompute makes a new key), else computed, rendered
    and cached."""
    branch, target = context["branch"], context["target"]
    signature = (
        branch.pk,
        branch.path,
        context["on_map"],
        context["as_of"],
        context["view_query"],
        request.LANGUAGE_CODE,
        today,
        version,
        _targets_signature([target]),
    )
    key = "plans:dashboard-children:v1:" + hashlib.sha256(repr(signature).encode()).hexdigest()
    cached = _cache_read(key)
    if cached is not None:
        return cached
    board = dashboard_for(branch, on_map=context["on_map"], as_of=context["as_of"], targets=[target])
    item = board.targets[0]
    chart = {
        "id": target.pk,
        "threshold": float(target.threshold_percent),
        "children": children_chart_data(item),
        "dashboardUrl": _dashboard_url_prefix(),
        "viewQuery": context["view_query"],
        "labels": {"target": _("Target"), "percent": _("Percentage")},
    }
    chart_json = json.dumps(chart, cls=DjangoJSONEncoder).translate(_json_script_escapes)
    html = render_to_string(
        "plans/partials/dashboard_children.html",
        {
            **context,
            "item": item,
            "dashboard_url": _dashboard_url_prefix(),
            "chart_json": mark_safe(chart_json),  # noqa: S308 — escaped as json_script does
        },
        request=request,
    )
    fragment = str(html).encode()
    _cache_write(key, fragment)
    return fragment


def _dashboard_url_prefix() -> str:
    """The dashboards' URL without the branch ("/plans/dashboard/"): a branch's is this, its
    id and a slash (one `reverse` for hundreds of rows)."""
    return reverse("plans:dashboard_branch", args=[0]).removesuffix("0/")


# The rendered targets of a dashboard are kept this long at most; a recompute changes their
# key long before (the stored values' version is part of it), so nothing shown is older.
FRAGMENT_SECONDS = 24 * 3600


@dataclass
class DashboardHeader:
    """What the page's heading reads of the dashboard, outside the cached targets. The
    targets themselves (`plans`, `targets`) are computed only when read (by tests): the page
    has them rendered already."""

    computed_at: datetime.datetime | None
    latest_run: RecomputeRun | None
    compute: Callable[[], Dashboard] | None = None

    @cached_property
    def _board(self) -> Dashboard:
        return self.compute()

    @property
    def plans(self):
        return self._board.plans

    @property
    def targets(self):
        return self._board.targets

    @property
    def is_stale(self) -> bool:
        return self.computed_at is None or timezone.now() - self.computed_at > STALE_AFTER


def _board(context: dict, targets: list) -> Dashboard:
    board = dashboard_for(
        context["branch"],
        plan=context["chosen_plan"],
        on_map=context["on_map"],
        as_of=context["as_of"],
        targets=targets,
    )
    shares = level_year_shares(context["branch"], board.targets, on_map=context["on_map"])
    for item in board.targets:
        item.year_rows = year_rows(item, shares=shares.get(item.target.pk))
    return board


def _fingerprint(obj) -> tuple:
    """The fields of a model instance as loaded (not its caches): what its rendering reads."""
    return tuple(sorted((key, repr(value)) for key, value in vars(obj).items() if not key.startswith("_")))


def _targets_fragment(request, context: dict, *, targets: list, today: datetime.date, version: tuple) -> dict:
    """The dashboard's targets, rendered (`html`), their charts' data and the time their
    values were computed: from the cache when the same targets were rendered from the same
    stored values, else computed, rendered and cached.

    The key holds everything the fragment is drawn from: the branch, the targets, their
    plans, definitions and milestones as stored (an edited target is another key), the map,
    the date, the language, today's date, and the version of the stored values (the latest
    computed_at and their number, `dashboard_values_version`): a recompute that writes or
    forgets a value of this branch — any change below it rolls up into it — makes a new key,
    so the page never shows values older than the last recompute. A cache that cannot be
    reached is skipped: the page is rendered as without one."""
    branch = context["branch"]
    signature = (
        branch.pk,
        branch.path,
        context["on_map"],
        context["as_of"],
        context["chosen_plan"].pk if context["chosen_plan"] else None,
        request.LANGUAGE_CODE,
        today,
        version,
        _targets_signature(targets),
    )
    key = "plans:dashboard:v4:" + hashlib.sha256(repr(signature).encode()).hexdigest()
    cached = _cache_read(key)
    if cached is not None:
        return cached
    board = _board(context, targets)
    html = render_to_string("plans/partials/dashboard_plans.html", {**context, "dashboard": board}, request=request)
    # The branches below are not on the page (a district's are thousands of rows): each
    # target's drill-down brings its own chart data when opened (`dashboard_children`).
    charts = json.dumps(
        [{**item.chart_data(), "timeline": timeline_chart_data(item)["timeline"]} for item in board.targets],
        cls=DjangoJSONEncoder,
    )
    fragment = {
        # Kept encoded, as the response's bytes: the page splices them in (`_splice`).
        "html": str(html).encode(),
        "charts_json": charts.translate(_json_script_escapes).encode(),
        "computed_at": board.computed_at,
    }
    _cache_write(key, fragment)
    return fragment


def _splice(response, parts: dict[str, bytes]) -> None:
    """Put each cached part (already the response's UTF-8 bytes) in place of its marker in the
    rendered page: the targets of a district are megabytes of HTML and JSON, which the
    template engine would otherwise join, and the response encode, on every request."""
    content = response.content
    for marker, part in parts.items():
        content = content.replace(marker.encode(), part, 1)
    response.content = content


def _panels_fragment(request, context: dict) -> dict:
    """The money and scholarship panels, rendered (`html`), and their charts' data as JSON
    members (`charts_json`): from the cache when the same stored totals were rendered in the
    same language, else rendered and cached. The key is the totals themselves (read on every
    request, one query with the panels' rows), so a recompute that changes any of them is
    shown on the next request."""
    money, scholarships = context["money"], context["scholarships"]
    signature = (
        request.LANGUAGE_CODE,
        money.available,
        sorted(money.cells.items()),
        money.fund_models,
        scholarships.available,
        scholarships.rows,
        money.on_todays_map,
        sorted(money.split_years.items()),
        scholarships.split_rows,
    )
    key = "plans:dashboard-panels:v1:" + hashlib.sha256(repr(signature).encode()).hexdigest()
    cached = _cache_read(key)
    if cached is not None:
        return {**cached, "html": mark_safe(cached["html"])}  # noqa: S308 — our own rendering, cached
    html = render_to_string("plans/partials/dashboard_panels.html", context, request=request)
    fragment = {
        "html": str(html),
        "charts_json": (
            '"money": '
            + json.dumps(money.chart_data() if money.available else None, cls=DjangoJSONEncoder)
            + ', "scholarships": '
            + json.dumps(scholarships.chart_data() if scholarships.available else None, cls=DjangoJSONEncoder)
        ),
    }
    _cache_write(key, fragment)
    return {**fragment, "html": html}


@login_required
@require_GET
def values_json(request, branch_id: int):
    branch = _branch(request, branch_id)
    return JsonResponse({"branch": branch.pk, "values": dashboard_values(branch)})


def _plan_dashboard(request, branch_id: int, plan_id: int):
    branch = _branch(request, branch_id)
    plan = plan_for_branch_or_none(branch, plan_id)
    if plan is None:
        raise Http404
    return branch, plan, dashboard_for(branch, plan=plan)


@login_required
@require_GET
def export_xlsx(request, branch_id: int, plan_id: int):
    _branch_obj, _plan, board = _plan_dashboard(request, branch_id, plan_id)
    return xlsx_response(exports.report_filename(board, "xlsx"), exports.dashboard_sheets(board))


@login_required
@require_GET
def export_pdf(request, branch_id: int, plan_id: int):
    branch, plan, board = _plan_dashboard(request, branch_id, plan_id)
    if exports.report_rows(board) > exports.background_threshold():
        export = ReportExport.objects.create(
            branch=branch, plan=plan, requested_by=request.user, language=request.LANGUAGE_CODE
        )
        transaction.on_commit(lambda: _enqueue_report(export))
        return redirect("plans:report_export", export.pk)
    response = HttpResponse(exports.dashboard_pdf(board), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{exports.report_filename(board, "pdf")}"'
    return response


def _enqueue_report(export: ReportExport) -> None:
    try:
        tasks.report_pdf_build.delay(export.pk)
    except Exception as error:
        ReportExport.objects.filter(pk=export.pk).update(status=RunStatus.FAILED, error=str(error)[:2000])


@login_required
@require_GET
def report_export(request, pk: int):
    export = get_object_or_404(ReportExport.objects.select_related("branch", "plan"), pk=pk, requested_by=request.user)
    template = (
        "plans/partials/report_export_status.html" if request.headers.get("HX-Request") else "plans/report_export.html"
    )
    return render(request, template, {"export": export})


@login_required
@require_GET
def report_export_download(request, pk: int):
    export = get_object_or_404(
        ReportExport.objects.select_related("plan"), pk=pk, requested_by=request.user, status=RunStatus.DONE
    )
    get_visible_or_404(request.user, Branch.objects, pk=export.branch_id)
    return FileResponse(
        export.file.open("rb"),
        as_attachment=True,
        filename=exports.plan_report_filename(export.plan, export.branch_id, "pdf"),
        content_type="application/pdf",
    )


@login_required
@require_POST
def recompute_start(request):
    require_manage(request.user)
    run = recompute_request(actor=request.user)
    return redirect("plans:recompute_status", run.pk)


@login_required
@require_GET
def recompute_status(request, pk: int):
    require_manage(request.user)
    run = get_visible_or_404(request.user, RecomputeRun.objects, pk=pk)
    template = "plans/partials/recompute_status.html" if request.headers.get("HX-Request") else "plans/recompute.html"
    return render(request, template, {"run": run})


# --- Plans and targets (managers) ------------------------------------------------------------
def _manager_branches(user):
    return Branch.objects.visible_to(user).filter(level__in=["city", "district", "commune"])


@login_required
@require_GET
def plan_list(request):
    plans = (
        Plan.objects.concerning(request.user)
        .current_first(timezone.localdate())
        .select_related("issuing_branch")
        .prefetch_related("targets")
    )
    return render(request, "plans/plan_list.html", {"plans": plans, "can_edit": can_manage(request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit(request, pk: int | None = None):
    require_manage(request.user)
    plan = get_visible_or_404(request.user, Plan.objects, pk=pk) if pk else None
    form = PlanForm(request.POST or None, instance=plan, branches=_manager_branches(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            saved = plan_save(actor=request.user, plan=form.instance)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            return redirect("plans:plan_detail", saved.pk)
    return render(request, "plans/plan_form.html", {"form": form, "plan": plan})


@login_required
@require_GET
def plan_detail(request, pk: int):
    # Read by everyone the plan concerns; changed only by managers of the branch that issued it.
    plan = get_object_or_404(
        Plan.objects.concerning(request.user).select_related("issuing_branch", "previous_version", "next_version"),
        pk=pk,
    )
    targets = plan.targets.select_related("root_branch", "definition").prefetch_related("milestones")
    may_change = can_manage(request.user) and Plan.objects.visible_to(request.user).filter(pk=plan.pk).exists()
    context = {
        "plan": plan,
        "targets": targets,
        "can_edit": may_change and not plan.is_superseded,
        "is_used": plan_is_used(plan),
    }
    return render(request, "plans/plan_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def target_edit(request, plan_pk: int, pk: int | None = None):
    require_manage(request.user)
    plan = get_visible_or_404(request.user, Plan.objects, pk=plan_pk)
    target = get_object_or_404(plan.targets, pk=pk) if pk else Target(plan=plan)
    form = TargetForm(request.POST or None, instance=target, branches=_manager_branches(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            saved = target_save(actor=request.user, target=form.instance, milestones=form.cleaned_data["milestones"])
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            return redirect("plans:plan_detail", saved.plan_id)
    return render(request, "plans/target_form.html", {"form": form, "plan": plan, "target": target if pk else None})


# --- Indicator definitions (a manager of the tree's root) ------------------------------------------
@login_required
@require_GET
def indicator_list(request):
    """Every indicator definition and the catalogue of measures it can be built from."""
    if user_root_branch(request.user) is None and not request.user.is_superuser:
        raise Http404
    definitions = IndicatorDefinition.objects.annotate(target_count=Count("targets")).order_by("name")
    context = {
        "definitions": definitions,
        "measures": catalogue_measures.registered(),
        "can_edit": can_write_indicators(request.user),
    }
    return render(request, "plans/indicator_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def indicator_create(request):
    require_indicator_writer(request.user)
    form = IndicatorDefinitionForm(request.POST or None, measure_choices=catalogue_measures.choices())
    if request.method == "POST" and form.is_valid():
        try:
            indicator_definition_save(actor=request.user, definition=form.instance)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            return redirect("plans:indicator_list")
    return render(request, "plans/indicator_form.html", {"form": form})


def can_write_indicators(user) -> bool:
    try:
        require_indicator_writer(user)
    except PermissionDenied:
        return False
    return True
