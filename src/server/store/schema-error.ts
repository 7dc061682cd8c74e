/** A database whose schema this kitty cannot serve: `code` says whether it is too new or not migrated yet. */
export class SchemaError extends Error {
  constructor(
    readonly code: 'KITTY_SERVER_SCHEMA_TOO_NEW' | 'KITTY_SERVER_SCHEMA_OUTDATED',
    message: string,
  ) {
    super(message);
  }
}
