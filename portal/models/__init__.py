from .family import Child, Family, School, SchoolYear
from .user import User

__all__ = ["Child", "Family", "School", "SchoolYear", "User"]
