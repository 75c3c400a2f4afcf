from .account import Invitation
from .audit import AppendOnlyError, AuditLog
from .dossier import FileItem, FileRequirement, RegulationAcceptance
from .family import AuthorisedPerson, Child, Family, School, SchoolYear
from .user import User

__all__ = ["Child", "Family", "School", "SchoolYear", "User"]
__all__ += ["AppendOnlyError", "AuditLog", "AuthorisedPerson", "FileItem", "FileRequirement",
            "Invitation", "RegulationAcceptance"]
