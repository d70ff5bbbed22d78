-- labelassign contingency: the sparse overlap of yesterday's stable IDs and today's fresh labels, one row per
-- (old_id, new_label) pair that shares at least one item. ANSI SQL (runs in DuckDB, Spark SQL and Trino).
--
-- Inputs (tables or views with these names and columns):
--   yesterday(item_id BIGINT, cluster_id INTEGER)  yesterday's stable IDs (-1: noise, in no cluster)
--   today(item_id BIGINT, label INTEGER)           today's fresh clustering (-1: noise)
-- Output columns: old_id, new_label, shared, old_size, new_size (sorted by old_id, new_label).
--   Every noise item of today is a cluster of its own (DBSCAN's noise points): the k-th noise item by item_id
--   gets new_label = (largest label of today, or -1) + k.
--   shared: items in both; old_size / new_size: items on both days in old_id / new_label (noise included).
--   old_id = -1 rows count the shared items that were noise yesterday.
--   Yesterday's clusters that share no item still appear once, as (old_id, -1, 0, 0, 0), so the remap knows
--   every old ID (a fresh ID must never equal one of them).
-- Feed the result to `labelassign remap --contingency FILE --today T`.
WITH
today_max AS (
  SELECT COALESCE(MAX(label), -1) AS max_label FROM today WHERE label >= 0
),
today_noise AS (
  SELECT item_id, ROW_NUMBER() OVER (ORDER BY item_id) AS k FROM today WHERE label = -1
),
t AS (
  SELECT item_id, CAST(label AS BIGINT) AS new_label FROM today WHERE label >= 0
  UNION ALL
  SELECT n.item_id, CAST(m.max_label AS BIGINT) + n.k AS new_label FROM today_noise n CROSS JOIN today_max m
),
pairs AS (
  SELECT CAST(y.cluster_id AS BIGINT) AS old_id, t.new_label, COUNT(*) AS shared
  FROM yesterday y JOIN t ON y.item_id = t.item_id
  GROUP BY y.cluster_id, t.new_label
),
old_sizes AS (
  SELECT old_id, SUM(shared) AS old_size FROM pairs GROUP BY old_id
),
new_sizes AS (
  SELECT new_label, SUM(shared) AS new_size FROM pairs GROUP BY new_label
),
absent AS (
  SELECT DISTINCT CAST(y.cluster_id AS BIGINT) AS old_id
  FROM yesterday y LEFT JOIN old_sizes o ON CAST(y.cluster_id AS BIGINT) = o.old_id
  WHERE y.cluster_id >= 0 AND o.old_id IS NULL
)
SELECT CAST(p.old_id AS INTEGER) AS old_id, CAST(p.new_label AS INTEGER) AS new_label,
       CAST(p.shared AS BIGINT) AS shared, CAST(o.old_size AS BIGINT) AS old_size, CAST(n.new_size AS BIGINT) AS new_size
FROM pairs p
JOIN old_sizes o ON p.old_id = o.old_id
JOIN new_sizes n ON p.new_label = n.new_label
UNION ALL
SELECT CAST(a.old_id AS INTEGER), CAST(-1 AS INTEGER), CAST(0 AS BIGINT), CAST(0 AS BIGINT), CAST(0 AS BIGINT)
FROM absent a
ORDER BY old_id, new_label
