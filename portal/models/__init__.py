from .booking import Booking
from .family import Child, Family, School, SchoolYear
from .service import Closure, Price, Service, TariffBracket, TicketType
from .user import User
from .wallet import LedgerEntry, Wallet

__all__ = ["Child", "Family", "School", "SchoolYear", "User"]
__all__ += ["Booking", "Closure", "LedgerEntry", "Price", "Service", "TariffBracket", "TicketType", "Wallet"]
