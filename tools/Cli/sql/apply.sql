-- labelassign apply: today's items with their stable IDs, the join of today's labels with a mapping written by
-- `labelassign remap`. ANSI SQL (runs in DuckDB, Spark SQL and Trino).
--
-- Inputs (tables or views with these names and columns):
--   today(item_id BIGINT, label INTEGER)      today's fresh clustering (-1: noise)
--   mapping(label INTEGER, item_id BIGINT, cluster_id INTEGER, ...)
--       one row per cluster of today: label >= 0 with item_id NULL, or, for a noise item (a cluster of its own),
--       label = -1 with that item's item_id.
-- Output columns: item_id, cluster_id (sorted by item_id). An item whose label the mapping lacks is left out:
-- `labelassign apply` checks first that none is.
SELECT t.item_id, m.cluster_id
FROM today t JOIN mapping m ON m.label = t.label
WHERE t.label <> -1
UNION ALL
SELECT t.item_id, m.cluster_id
FROM today t JOIN mapping m ON m.item_id = t.item_id
WHERE t.label = -1 AND m.label = -1
ORDER BY item_id
