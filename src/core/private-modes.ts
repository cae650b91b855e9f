/**
 * The modes of every file and directory Lifeboat creates for itself: stored objects and
 * manifests, staged data, journals. They hold backups (often in the clear) and what puts a
 * destination back, so they are private to the user Lifeboat runs as, whatever the umask.
 * Directories that already exist keep their modes (the operator chose them), except the
 * staging and journal roots, which are made private again.
 */
export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIRECTORY_MODE = 0o700;
