// What Railway reads since 2026-12-01 (Infrastructure as Code): the function app's service, the
// volume its SQLite database lives on, and the bucket its off-volume copies go to. `railway config plan` shows what would change,
// `railway config apply` applies it, then `railway up` deploys this repository. railway.toml beside
// the Dockerfile says the same for services created before the cutoff; a test keeps the two equal.
import { bucket, defineRailway, project, ref, service, volume } from "railway/iac";

/** Where the Dockerfile's Persistence__DatabasePath puts the database; the app refuses it unless it is this mount. */
const mountPath = "/app/data";

export default defineRailway(() => {
  // The database, its verified backups and the host's function keys. Railway's own volume backups
  // (daily and weekly, see the mount below) are a second line of defence beside the app's backups.
  const data = volume("emergence-data", {
    sizeMB: 5120,
    // Alert when the volume is 80 % full: backups need room (the app also reports low space in health).
    alerts: { usage: { "80": {} } },
  });

  // What survives losing the volume: a Railway Bucket (S3-compatible) holding the verified backups and
  // the WAL history. Its credentials reach the app as references to the bucket's own variables, so
  // `railway config apply` wires it up with no secret copied by hand, and a reset key follows.
  const offsite = bucket("emergence-offsite");

  const app = service("emergence-functions", {
    build: {
      builder: "DOCKERFILE",
      dockerfilePath: "Dockerfile",
      watchPatterns: ["src/**", "host.json", "Dockerfile", "deploy/**", "Directory.*.props", "global.json"],
    },
    deploy: {
      // Railway calls this during a deploy until it answers 200; 503 means the volume or database is not right.
      healthcheckPath: "/api/health",
      // Covers a new container waiting for the old one to release the volume lock, plus startup recovery.
      healthcheckTimeout: 600,
      restartPolicyType: "ON_FAILURE",
      restartPolicyMaxRetries: 5,
      // Time for the old container to finish a backup and release the volume lock after SIGTERM.
      drainingSeconds: 60,
      // One writer per volume: never run two deployments side by side, never replicate.
      overlapSeconds: 0,
      numReplicas: 1,
      // The volume path a deployment requires; the app itself also refuses a /app/data that is not this mount.
      requiredMountPath: mountPath,
    },
    variables: {
      BACKUP_SCHEDULE: {
        value: "0 0 * * * *",
        description: "NCRONTAB (sec min hour day month weekday, UTC) of the verified backup timer; health uses it for staleness.",
      },
      DRILL_SCHEDULE: {
        value: "0 30 3 * * *",
        description: "NCRONTAB of the restore drill, which restores the newest off-volume copy and checks it.",
      },
      Persistence__Offsite__S3__Bucket: ref(offsite, "BUCKET"),
      Persistence__Offsite__S3__Endpoint: ref(offsite, "ENDPOINT"),
      Persistence__Offsite__S3__Region: ref(offsite, "REGION"),
      Persistence__Offsite__S3__AccessKeyId: ref(offsite, "ACCESS_KEY_ID"),
      Persistence__Offsite__S3__SecretAccessKey: ref(offsite, "SECRET_ACCESS_KEY"),
      Persistence__Offsite__ConnectionString: {
        description: "Optional second target: an Azure Storage connection string (copies then go to the bucket and to Azure). Fill it in; never commit it.",
        isOptional: true,
        isSealed: true,
      },
      Persistence__Offsite__ServiceUri: {
        description: "Instead of a connection string: the blob endpoint, authenticated with DefaultAzureCredential.",
        isOptional: true,
      },
      Persistence__Offsite__Container: {
        description: "Blob container for the off-volume copies; required when either setting above is set.",
        isOptional: true,
      },
    },
    volumeMounts: { [mountPath]: data },
  });

  // The SDK's service() keeps a volume's size and alerts on the attachment but not the mount's backup
  // schedules, which the graph's attachment also carries: set them there.
  app.volumeAttachments![data.name]!.backupSchedules = ["DAILY", "WEEKLY"];

  return project("emergence", { resources: [app, data, offsite] });
});
