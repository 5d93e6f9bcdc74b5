"""Folders (issue #15): spaces, a materialised path per folder, breadcrumbs in one query."""
