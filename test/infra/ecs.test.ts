// infra/ecs/: the task definition and its EventBridge schedule against the fields their APIs
// require (test/support/ecs-check.ts), and wired together: the schedule starts this task
// definition once a night without retrying, the task runs pipelines/example-production.yaml's
// pipeline with every variable it names from Secrets Manager, as the image's non-root user.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { scheduleProblems, taskDefinitionProblems } from '../support/ecs-check.ts';
import { envNamesOf } from '../support/infra-files.ts';
import { REPO_ROOT } from '../support/run-cli.ts';

const read = (path: string) => JSON.parse(readFileSync(join(REPO_ROOT, path), 'utf8'));
const task = read('infra/ecs/task-definition.json');
const schedule = read('infra/ecs/schedule.json');
const pipeline = parse(readFileSync(join(REPO_ROOT, 'pipelines/example-production.yaml'), 'utf8'));

describe('infra/ecs/task-definition.json', () => {
  it('has every field RegisterTaskDefinition and Fargate require, and no other key', () => {
    expect(taskDefinitionProblems(task)).toEqual([]);
  });

  it('the check refuses what ECS would (it can fail)', () => {
    const { family: _, ...noFamily } = task;
    expect(taskDefinitionProblems(noFamily)).toContain('family: required, letters, digits, - and _');
    expect(taskDefinitionProblems({ ...task, memory: '1024' })).toContain(
      'cpu 1024 with memory 1024: not a Fargate task size',
    );
    expect(taskDefinitionProblems({ ...task, schedule: 'nightly' })).toContain('schedule: not a parameter');
    const { executionRoleArn: __, ...noExecutionRole } = task;
    expect(taskDefinitionProblems(noExecutionRole).join('\n')).toMatch(/executionRoleArn: required/);
  });

  it("runs the example pipeline with every variable it names from Secrets Manager, as the image's user", () => {
    const [container] = task.containerDefinitions;
    expect(container.command.slice(0, 2)).toEqual(['run', pipeline.name]);
    const secrets = container.secrets.map((s: { name: string }) => s.name).sort();
    expect(secrets).toEqual(envNamesOf(pipeline));
    expect(JSON.stringify(task)).not.toMatch(/AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID/);
    expect(task.taskRoleArn).toMatch(/^arn:aws:iam::ACCOUNT_ID:role\//);
    expect(container.user).toBe('999:999');
    expect(readFileSync(join(REPO_ROOT, 'infra/Dockerfile'), 'utf8')).toMatch(/^USER 999:999$/m);
  });
});

describe('infra/ecs/schedule.json', () => {
  it('has every field CreateSchedule requires for an ECS target', () => {
    expect(scheduleProblems(schedule)).toEqual([]);
    const { FlexibleTimeWindow: _, ...noWindow } = schedule;
    expect(scheduleProblems(noWindow)).toEqual(['FlexibleTimeWindow.Mode: required, OFF or FLEXIBLE']);
    expect(scheduleProblems({ ...schedule, ScheduleExpression: 'cron(30 5 * * *)' })).toHaveLength(1);
  });

  it('starts this task definition, once a night, in UTC, without retrying a failed run', () => {
    const ecs = schedule.Target.EcsParameters;
    expect(ecs.TaskDefinitionArn).toMatch(new RegExp(`:task-definition/${task.family}$`));
    expect(ecs.TaskCount).toBe(1);
    expect(ecs.LaunchType).toBe('FARGATE');
    expect(ecs.NetworkConfiguration.awsvpcConfiguration.AssignPublicIp).toBe('DISABLED');
    expect(schedule.ScheduleExpression).toMatch(/^cron\(\d+ \d+ \* \* \? \*\)$/);
    expect(schedule.ScheduleExpressionTimezone).toBe('UTC');
    expect(schedule.Target.RetryPolicy.MaximumRetryAttempts).toBe(0);
  });
});
