"""The streamed XLSX opens in a spreadsheet reader with every value in its own type."""

import datetime
import decimal
import io

from openpyxl import load_workbook

from portal.spreadsheet import ROWS_PER_PIECE, stream_xlsx


def test_each_kind_of_value_reads_back_as_itself():
    header = ["Texte", "Entier", "Décimal", "Oui/non", "Vide", "Jour", "Heure", "Jour et heure"]
    row = ['Lefèvre & fils <"PAI">\x01', 42, decimal.Decimal("3.50"), True, None,
           datetime.date(2027, 1, 11), datetime.time(11, 45), datetime.datetime(2027, 1, 11, 8, 30)]
    book = load_workbook(io.BytesIO(b"".join(stream_xlsx(header, [row], title="Cantine 11-01-2027"))))
    sheet = book.active
    assert sheet.title == "Cantine 11-01-2027"
    assert [c.value for c in sheet[1]] == header
    values = [c.value for c in sheet[2]]
    assert values[:5] == ['Lefèvre & fils <"PAI">', 42, 3.5, True, None]
    assert values[5] == datetime.datetime(2027, 1, 11)
    assert values[6] == datetime.time(11, 45)
    assert values[7] == datetime.datetime(2027, 1, 11, 8, 30)
    assert sheet["F2"].is_date and sheet["H2"].number_format == "dd/mm/yyyy hh:mm"


def test_rows_leave_in_pieces_as_they_are_read():
    read = []

    def rows():
        for n in range(ROWS_PER_PIECE * 20):
            read.append(n)
            yield [f"Enfant {n}", n]

    pieces = stream_xlsx(["Nom", "N°"], rows())
    assert next(pieces) and read == []  # the fixed parts leave before any row is read
    rows_read_at_each_piece = [len(read) for _piece in pieces]
    assert len(rows_read_at_each_piece) > 3 and rows_read_at_each_piece[1] < len(read)
