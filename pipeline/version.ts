/** The lzsync release this build is (written into what lzsync publishes, e.g. the Portal's sync-metadata.json). */
export const LZSYNC_VERSION = "0.1.0";
