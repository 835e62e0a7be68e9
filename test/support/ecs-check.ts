// The fields ECS's RegisterTaskDefinition and EventBridge Scheduler's CreateSchedule require
// (their API references), checked on the JSON a user passes with --cli-input-json: a problem
// per missing or malformed field, by path. Pure logic: no AWS call.

// biome-ignore lint/suspicious/noExplicitAny: JSON read from infra/, checked field by field here
type Json = Record<string, any>;

/** RegisterTaskDefinition's parameters: the CLI refuses any other key in --cli-input-json. */
const TASK_KEYS = new Set([
  'family',
  'taskRoleArn',
  'executionRoleArn',
  'networkMode',
  'containerDefinitions',
  'volumes',
  'placementConstraints',
  'requiresCompatibilities',
  'cpu',
  'memory',
  'tags',
  'pidMode',
  'ipcMode',
  'proxyConfiguration',
  'inferenceAccelerators',
  'ephemeralStorage',
  'runtimePlatform',
]);

/** Fargate's task sizes: memory (MiB) allowed for each cpu (units). */
function fargateMemory(cpu: number): number[] {
  const range = (from: number, to: number, step: number) =>
    Array.from({ length: (to - from) / step + 1 }, (_, i) => from + i * step);
  const table: Record<number, number[]> = {
    256: [512, 1024, 2048],
    512: range(1024, 4096, 1024),
    1024: range(2048, 8192, 1024),
    2048: range(4096, 16384, 1024),
    4096: range(8192, 30720, 1024),
    8192: range(16384, 61440, 4096),
    16384: range(32768, 122880, 8192),
  };
  return table[cpu] ?? [];
}

export function taskDefinitionProblems(task: Json): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(task)) if (!TASK_KEYS.has(key)) problems.push(`${key}: not a parameter`);
  if (typeof task.family !== 'string' || !/^[A-Za-z0-9_-]{1,255}$/.test(task.family)) {
    problems.push('family: required, letters, digits, - and _');
  }
  const containers = task.containerDefinitions;
  if (!Array.isArray(containers) || containers.length === 0) problems.push('containerDefinitions: required');
  const fargate =
    Array.isArray(task.requiresCompatibilities) && task.requiresCompatibilities.includes('FARGATE');
  if (fargate) {
    if (task.networkMode !== 'awsvpc') problems.push('networkMode: Fargate requires awsvpc');
    if (typeof task.cpu !== 'string' || typeof task.memory !== 'string') {
      problems.push('cpu, memory: Fargate requires both, as strings');
    } else if (!fargateMemory(Number(task.cpu)).includes(Number(task.memory))) {
      problems.push(`cpu ${task.cpu} with memory ${task.memory}: not a Fargate task size`);
    }
  }
  for (const [i, c] of (Array.isArray(containers) ? containers : []).entries()) {
    const at = `containerDefinitions[${i}]`;
    if (typeof c.name !== 'string' || !c.name) problems.push(`${at}.name: required`);
    if (typeof c.image !== 'string' || !c.image) problems.push(`${at}.image: required`);
    if (
      c.command !== undefined &&
      !(Array.isArray(c.command) && c.command.every((a: unknown) => typeof a === 'string'))
    ) {
      problems.push(`${at}.command: a list of strings`);
    }
    for (const [j, s] of (c.secrets ?? []).entries()) {
      if (!s.name || !/^arn:aws:(secretsmanager|ssm):/.test(s.valueFrom ?? '')) {
        problems.push(`${at}.secrets[${j}]: name and a Secrets Manager or SSM valueFrom ARN`);
      }
    }
    const pullsSecretsOrLogs = (c.secrets ?? []).length > 0 || c.logConfiguration?.logDriver === 'awslogs';
    if (pullsSecretsOrLogs && !task.executionRoleArn) {
      problems.push(`executionRoleArn: required for ${at}'s secrets and awslogs`);
    }
    if (c.logConfiguration?.logDriver === 'awslogs') {
      for (const option of ['awslogs-group', 'awslogs-region']) {
        if (!c.logConfiguration.options?.[option])
          problems.push(`${at}.logConfiguration.options.${option}: required`);
      }
      if (fargate && !c.logConfiguration.options?.['awslogs-stream-prefix']) {
        problems.push(`${at}.logConfiguration.options.awslogs-stream-prefix: Fargate requires it`);
      }
    }
    if (fargate && c.stopTimeout !== undefined && (c.stopTimeout < 2 || c.stopTimeout > 120)) {
      problems.push(`${at}.stopTimeout: Fargate allows 2-120 seconds`);
    }
  }
  return problems;
}

export function scheduleProblems(schedule: Json): string[] {
  const problems: string[] = [];
  if (typeof schedule.Name !== 'string' || !/^[0-9a-zA-Z-_.]{1,64}$/.test(schedule.Name)) {
    problems.push('Name: required, 1-64 letters, digits, - _ .');
  }
  // cron(minutes hours day-of-month month day-of-week year): one of the two days is "?".
  const cron = /^cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)$/.exec(schedule.ScheduleExpression ?? '');
  if (!cron) problems.push('ScheduleExpression: required, cron(minutes hours day month weekday year)');
  else if (!(cron[3] === '?' || cron[5] === '?'))
    problems.push('ScheduleExpression: day-of-month or day-of-week must be ?');
  if (!['OFF', 'FLEXIBLE'].includes(schedule.FlexibleTimeWindow?.Mode))
    problems.push('FlexibleTimeWindow.Mode: required, OFF or FLEXIBLE');
  const target = schedule.Target ?? {};
  if (!/^arn:aws:ecs:[^:]+:[^:]+:cluster\//.test(target.Arn ?? ''))
    problems.push('Target.Arn: required, the cluster ARN');
  if (!/^arn:aws:iam::[^:]+:role\//.test(target.RoleArn ?? ''))
    problems.push('Target.RoleArn: required, a role ARN');
  const ecs = target.EcsParameters;
  if (!ecs?.TaskDefinitionArn) problems.push('Target.EcsParameters.TaskDefinitionArn: required');
  if (ecs?.LaunchType === 'FARGATE' && !ecs.NetworkConfiguration?.awsvpcConfiguration?.Subnets?.length) {
    problems.push(
      'Target.EcsParameters.NetworkConfiguration.awsvpcConfiguration.Subnets: required for awsvpc',
    );
  }
  return problems;
}
