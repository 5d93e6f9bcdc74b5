"""Groups of accounts and shares: the tables the access rules read besides owners and
visibility. The rules themselves are in ``mcore.access.objects``; the ops in
``mcore.sharing.ops``."""
