/** The --help text; README "Commands" and "Exit codes" say the same. */
export const USAGE = `offsite: verified off-site backups of PostgreSQL on AWS RDS

Usage:
  offsite run <pipeline.yaml> [--date YYYY-MM-DD] [--reason TEXT] [--json]
      Restore the newest automated snapshot (or the one of --date) to a private temporary
      instance, dump it, delete the instance, prove the dump restores, publish it.
  offsite validate <pipeline.yaml>
      Check a pipeline file and print the normalised configuration (no secrets in it).
  offsite --help | --version

Options:
  --date YYYY-MM-DD   back up the snapshot taken on that date (source.snapshot.timeZone)
  --reason TEXT       why this run was started by hand; recorded in the report
  --json              print the RunReport JSON, and nothing else, on stdout (logs go to stderr)

Exit codes:
  0  success
  1  the backup or its verification failed (nothing was published)
  2  bad usage or an invalid pipeline file
  3  a precondition is missing (credentials, pg_dump/pg_restore version, the snapshot)
  130 interrupted (the temporary instance was still deleted)
`;
