declare module 'dynalite' {
  import type { Server } from 'node:http';

  /** Options of the dynalite server; the three delays are how long a table stays CREATING, DELETING, UPDATING. */
  export interface DynaliteOptions {
    readonly createTableMs?: number;
    readonly deleteTableMs?: number;
    readonly updateTableMs?: number;
    /** A LevelDB folder; in memory when absent. */
    readonly path?: string;
  }

  /** An HTTP server that answers the DynamoDB API; it listens once `listen` is called. */
  export default function dynalite(options?: DynaliteOptions): Server;
}
