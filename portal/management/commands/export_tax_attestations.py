"""Every family's attestation de frais de garde of a year, written to files: the same ZIP and
CSV as the agents' back office, for a large town (about 25 ms a family) or a scheduled job."""

from django.core.management.base import BaseCommand, CommandError

from portal.services import tax_attestation


class Command(BaseCommand):
    help = "Écrit les attestations de frais de garde d’une année (ZIP de PDF) et leur récapitulatif (CSV)."

    def add_arguments(self, parser):
        parser.add_argument("year", type=int)
        parser.add_argument("--zip", dest="zip_path", help="fichier ZIP des PDF à écrire")
        parser.add_argument("--csv", dest="csv_path", help="fichier CSV du récapitulatif à écrire")

    def handle(self, year, zip_path=None, csv_path=None, **options):
        today = tax_attestation.today_in_paris()
        if not tax_attestation.FIRST_YEAR <= year <= today.year:
            raise CommandError(f"Année entre {tax_attestation.FIRST_YEAR} et {today.year}, s’il vous plaît.")
        if not zip_path and not csv_path:
            raise CommandError("Indiquez --zip et/ou --csv.")
        if zip_path:
            with open(zip_path, "wb") as out:
                for chunk in tax_attestation.attestations_zip(year, today=today):
                    out.write(chunk)
        if csv_path:
            with open(csv_path, "w", encoding="utf-8", newline="") as out:
                for chunk in tax_attestation.summary_csv(year):
                    out.write(chunk)
        self.stdout.write(self.style.SUCCESS(f"Attestations {year} écrites."))
