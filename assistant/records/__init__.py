"""Records kept about use: the audit log, each user's chat history and API keys, in one
database (SQLite under the data folder by default; any SQLAlchemy URL by
``Settings.records.database_url``).

Used by the web app and the command line; depends only on the settings.
"""

from assistant.records.audit import AuditLog, AuditQuery, audited_check
from assistant.records.db import Database
from assistant.records.history import ChatHistory, Conversation
from assistant.records.keys import ApiKey, ApiKeys

__all__ = ["ApiKey", "ApiKeys", "AuditLog", "AuditQuery", "ChatHistory", "Conversation",
           "Database", "audited_check"]
