/**
 * Stores a batch of one team in one statement (one round trip, one transaction). Parameters: $1 team,
 * $2 received_at, $3 the notification channel, $4…$14 one array per field (postgres.ts `batchParams`),
 * $15 the envelopes as one JSON array of the stored texts: joined, never escaped into an array
 * literal (which cost the server more than the rest of the batch), and read back verbatim (the json
 * type keeps its text).
 *
 * - `team_lock`: ingests of one team take turns (a transaction lock, released at commit), so `seq`
 *   grows in commit order within a team: a reader paging with `after=` never skips an event that
 *   commits later with a smaller seq, and the board and project rows are never fought over.
 * - `stored`: dedup is the unique constraint (ON CONFLICT DO NOTHING), never a read before the
 *   write; an id twice in the batch is inserted once.
 * - Orders are byte orders (COLLATE "C", as the columns and SQLite compare): the arrays bound here
 *   carry the database's default collation, under which en_US puts "a-b" after "aa".
 * - `cards`: the latest stored event per WP in board order (timestamp key, lamport_clock, node_id,
 *   event_id) moves the card only when it is later than the card's, the rule SQLite applies.
 * - `notified`: one notification per project touched, sent by PostgreSQL at commit to every
 *   instance listening (this one too), for the dashboards they serve and the team clock they keep.
 */
/**
 * A project's slug is that of its latest event that names one (of such events at one time, the
 * greatest slug), whatever order they arrive in; `slug_ts_key` is that event's time (SQLite: PROJECT_UPSERT).
 * A slug without one was written by a kitty before schema 2 (an instance left running across the
 * migration): the project's latest time stands in for it, that kitty's rule.
 */
const NEWER_SLUG = `excluded.project_slug IS NOT NULL AND (p.project_slug IS NULL OR excluded.slug_ts_key > COALESCE(p.slug_ts_key, p.last_ts_key)
      OR (excluded.slug_ts_key = COALESCE(p.slug_ts_key, p.last_ts_key) AND excluded.project_slug > p.project_slug))`;

export const INGEST = `
WITH team_lock AS (SELECT pg_advisory_xact_lock(hashtextextended('kitty team ' || $1::text, 0))),
input AS (
  SELECT DISTINCT ON (event_id) t.event_id, t.project_uuid, t.project_slug, t.event_type, t.timestamp, t.lamport_clock, t.node_id, t.ts_key,
    t.feature_slug, t.wp_id, t.lane, envelopes.envelope::text AS envelope, ord
  FROM team_lock, unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[])
      WITH ORDINALITY AS t(event_id, project_uuid, project_slug, event_type, timestamp, lamport_clock, node_id, ts_key, feature_slug, wp_id, lane, ord)
    JOIN json_array_elements($15::json) WITH ORDINALITY AS envelopes(envelope, ord) USING (ord)
  ORDER BY event_id, ord
),
stored AS (
  INSERT INTO events (event_id, team_slug, project_uuid, project_slug, event_type, timestamp, lamport_clock, node_id, envelope, received_at)
  SELECT event_id, $1, project_uuid, project_slug, event_type, timestamp, lamport_clock, node_id, envelope, $2::text FROM input ORDER BY ord
  ON CONFLICT (team_slug, event_id) DO NOTHING
  RETURNING event_id
),
fresh AS (SELECT input.* FROM input JOIN stored USING (event_id)),
cards AS (
  INSERT INTO board AS b (team_slug, project_uuid, feature_slug, wp_id, lane, last_event_id, updated_at, ts_key, lamport_clock, node_id)
  SELECT DISTINCT ON (project_uuid, feature_slug, wp_id) $1, project_uuid, feature_slug, wp_id, lane, event_id, timestamp, ts_key, lamport_clock, node_id
  FROM fresh WHERE event_type = 'WPStatusChanged'
  ORDER BY project_uuid, feature_slug, wp_id, ts_key COLLATE "C" DESC, lamport_clock DESC, node_id COLLATE "C" DESC, event_id COLLATE "C" DESC
  ON CONFLICT (team_slug, project_uuid, feature_slug, wp_id) DO UPDATE SET
    lane = excluded.lane, last_event_id = excluded.last_event_id, updated_at = excluded.updated_at,
    ts_key = excluded.ts_key, lamport_clock = excluded.lamport_clock, node_id = excluded.node_id
  WHERE (excluded.ts_key, excluded.lamport_clock, excluded.node_id, excluded.last_event_id) > (b.ts_key, b.lamport_clock, b.node_id, b.last_event_id)
),
slugs AS (
  SELECT project_uuid, (ARRAY_AGG(project_slug ORDER BY ts_key COLLATE "C" DESC, project_slug COLLATE "C" DESC))[1] AS slug, MAX(ts_key COLLATE "C") AS slug_ts_key
  FROM fresh WHERE project_slug IS NOT NULL GROUP BY project_uuid
),
summary AS (
  INSERT INTO projects AS p (team_slug, project_uuid, project_slug, slug_ts_key, event_count, last_event_at, last_ts_key)
  SELECT $1, fresh.project_uuid, MAX(slugs.slug), MAX(slugs.slug_ts_key), COUNT(*), (ARRAY_AGG(fresh.timestamp ORDER BY fresh.ts_key COLLATE "C" DESC))[1], MAX(fresh.ts_key COLLATE "C")
  FROM fresh LEFT JOIN slugs USING (project_uuid) GROUP BY fresh.project_uuid
  ON CONFLICT (team_slug, project_uuid) DO UPDATE SET
    event_count = p.event_count + excluded.event_count,
    project_slug = CASE WHEN ${NEWER_SLUG} THEN excluded.project_slug ELSE p.project_slug END,
    slug_ts_key = CASE WHEN ${NEWER_SLUG} THEN excluded.slug_ts_key ELSE p.slug_ts_key END,
    last_event_at = CASE WHEN excluded.last_ts_key > p.last_ts_key THEN excluded.last_event_at ELSE p.last_event_at END,
    last_ts_key = GREATEST(excluded.last_ts_key, p.last_ts_key)
),
notified AS (
  SELECT pg_notify($3, json_build_object('kind', 'events', 'team', $1::text, 'projects', json_build_array(project_uuid), 'clock', clock)::text)
  FROM (SELECT project_uuid, MAX(lamport_clock) AS clock FROM fresh GROUP BY project_uuid) touched
)
SELECT (SELECT ARRAY_AGG(event_id) FROM stored) AS stored, (SELECT COUNT(*) FROM notified) AS notified`;

/** Ends a session ($1: hash of one of its refresh tokens) and tells every instance ($2: channel), whose sockets of it close. */
export const REVOKE_FAMILY = `
WITH gone AS (
  DELETE FROM tokens WHERE family = (SELECT family FROM tokens WHERE hash = $1 AND kind = 'refresh') RETURNING family
),
families AS (SELECT DISTINCT family FROM gone)
SELECT family, pg_notify($2, json_build_object('kind', 'revoked', 'family', family)::text) FROM families`;
