"""Reorganise the administrative map from a conversion table, as the portal's page does:
without --apply it prints the dry run and changes nothing."""

import datetime
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from khuyenhoc.money import format_money
from khuyenhoc.xlsx import write_workbook
from reorganisation import services
from reorganisation.rounds import hanoi_rounds_run, parse_policy
from reorganisation.tables import parse_table
from reorganisation.workbooks import decisions_import, decisions_sheet


class _DryRun(Exception):
    """Raised to roll the dry run's transaction back."""


class Command(BaseCommand):
    help = (
        "Reorganise administrative units from a conversion table (.csv or .xlsx, the official columns): "
        "prints the dry run; with --apply applies it in one transaction. "
        "--hanoi-rounds runs Hanoi's three shipped rounds (2020, 01/01/2025, 01/07/2025) with a decisions policy."
    )

    def add_arguments(self, parser):
        parser.add_argument("table", nargs="?", help="The conversion table (.csv or .xlsx).")
        parser.add_argument("--name", default="", help="The reorganisation's name.")
        parser.add_argument("--legal-basis", default="", help="E.g. 1656/NQ-UBTVQH15.")
        parser.add_argument("--effective-on", default="", help="The day it takes effect, dd/mm/yyyy.")
        parser.add_argument("--decisions", help="A filled decisions workbook (.xlsx) to read before applying.")
        parser.add_argument("--export-decisions", help="Write the items still undecided to this .xlsx.")
        parser.add_argument("--hanoi-rounds", action="store_true", help="Hanoi's three shipped rounds.")
        parser.add_argument("--policy", help="The decisions policy (.csv) for --hanoi-rounds.")
        parser.add_argument(
            "--rule-decisions",
            action="store_true",
            help="With --hanoi-rounds: decide what the policy leaves undecided by the stated rule "
            "(reorganisation.rounds.rule_decisions; for demonstrations, never official decisions).",
        )
        parser.add_argument("--apply", action="store_true", help="Apply (without it: dry run, nothing changes).")

    def handle(self, *args, **options):
        try:
            with transaction.atomic():
                if options["hanoi_rounds"]:
                    self._hanoi_rounds(options)
                else:
                    self._table(options)
                if not options["apply"]:
                    raise _DryRun
        except _DryRun:
            self.stdout.write("Dry run: nothing was changed. Add --apply to apply.")
        except ValidationError as error:
            raise CommandError("\n".join(error.messages)) from error

    def _table(self, options):
        if not options["table"]:
            raise CommandError("Give a conversion table, or --hanoi-rounds.")
        if not options["name"] or not options["effective_on"]:
            raise CommandError("--name and --effective-on are required.")
        try:
            effective_on = datetime.datetime.strptime(options["effective_on"], "%d/%m/%Y").date()
        except ValueError as error:
            raise CommandError("--effective-on must be a date dd/mm/yyyy.") from error
        path = Path(options["table"])
        rows = parse_table(path.read_bytes(), path.name)
        reorganisation = services.reorganisation_create(
            actor=None,
            name=options["name"],
            legal_basis=options["legal_basis"],
            effective_on=effective_on,
            rows=rows,
            source=path.name,
        )
        plan = services.reorganisation_plan(reorganisation=reorganisation)
        if plan.errors:
            raise ValidationError(plan.errors)
        services.decisions_prepare(actor=None, reorganisation=reorganisation)
        if options["decisions"]:
            count = decisions_import(
                actor=None, reorganisation=reorganisation, data=Path(options["decisions"]).read_bytes()
            )
            self.stdout.write(f"{count} decisions read.")
        self._print_plan(services.reorganisation_plan(reorganisation=reorganisation))
        self._export(options, reorganisation)
        if options["apply"]:
            self.stdout.write(services.reorganisation_apply(actor=None, reorganisation=reorganisation).message)

    def _hanoi_rounds(self, options):
        policy = parse_policy(Path(options["policy"]).read_bytes()) if options["policy"] else []
        outcomes = hanoi_rounds_run(
            actor=None, policy=policy, apply=options["apply"], by_rule=options["rule_decisions"]
        )
        for outcome in outcomes:
            self.stdout.write(f"== {outcome.round.name} ({outcome.round.effective_on:%d/%m/%Y})")
            self._print_plan(outcome.plan)
            self._export(options, outcome.reorganisation)
            if outcome.result is not None:
                self.stdout.write(outcome.result.message)

    def _export(self, options, reorganisation):
        if options["export_decisions"]:
            with open(options["export_decisions"], "wb") as output:
                write_workbook(output, [decisions_sheet(reorganisation)])
            self.stdout.write(f"Undecided items written to {options['export_decisions']}.")

    def _print_plan(self, plan):
        if plan.is_noop:
            self.stdout.write("Nothing to do: already applied.")
            return
        for error in plan.errors:
            self.stdout.write(f"ERROR {error}")
        for unit in plan.units:
            counts = unit.counts
            if unit.mode == services.KEPT_MODE:
                continue
            moving = ", ".join(
                f"{counts[key]} {key.replace('_', ' ')}"
                for key in services.COUNT_KEYS
                if counts.get(key) and key != "balance"
            )
            money = f", balance {format_money(counts['balance'])}" if counts.get("balance") else ""
            successors = ", ".join(f"{code} {name}" for code, name in unit.successors) or "decisions"
            name = f"{unit.predecessor.name} ({unit.predecessor.code})"
            self.stdout.write(f"{name} → {successors} [{unit.mode}]: {moving or 'empty'}{money}")
        totals = plan.totals
        self.stdout.write(
            f"{len(plan.units)} old units, {len(plan.new_units)} new units to found; "
            f"{totals['members']} members, {totals['organisations']} organisations, "
            f"{totals['chapters'] + totals['boards']} chapters and boards, {totals['funds']} funds "
            f"({format_money(totals['balance'])}), {totals['accounts']} accounts, {totals['open_rounds']} open rounds; "
            f"{plan.items} items need a decision, {plan.undecided} undecided."
        )
