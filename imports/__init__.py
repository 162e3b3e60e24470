"""Excel imports of every register: the import job, its two passes, its tasks and its pages.

The engine's generic pieces (reading, parsing, the adapter interface and registry) live in
`khuyenhoc.imports`; each register's adapter lives in its own app, which registers it in its
AppConfig.ready(). This app reads that registry and never names another app's pages.
"""
