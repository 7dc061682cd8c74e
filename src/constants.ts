export const ENVELOPE_SCHEMA_VERSION = '1.0.0';
export const EVENT_TYPE_WP_STATUS_CHANGED = 'WPStatusChanged';
export const AGGREGATE_TYPE_WORK_PACKAGE = 'WorkPackage';
export const LOCAL_TEAM_SLUG = 'local';
export const SPECS_DIR = 'kitty-specs';
export const STATUS_LOG_NAME = 'status.events.jsonl';
export const CONFIG_DIR = '.kittify';
export const CONFIG_FILE = 'config.yaml';
/** Subfolder of the git common dir where kitty keeps per-repository records (identity, capture requests). */
export const GIT_STATE_DIR = 'kitty';
export const MISSING_UUID_WARNING = 'event missing project_uuid; queued locally only';
export const BACKLOG_WARNING_THRESHOLD = 100_000;
