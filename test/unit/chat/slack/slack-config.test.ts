import { describe, expect, it } from 'vitest';
import { slackConfigFromEnv, slackEnvSecrets } from '../../../../src/chat/slack/slack-config.ts';
import { ConfigError } from '../../../../src/core/errors.ts';

describe('Slack configuration from the environment', () => {
  it('is absent when no Slack variable is set', () => {
    expect(slackConfigFromEnv({})).toBeUndefined();
  });

  it('is HTTP mode with a bot token and a signing secret', () => {
    expect(slackConfigFromEnv({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'sec' })).toEqual({
      botToken: 'xoxb-1',
      signingSecret: 'sec',
    });
  });

  it('is Socket Mode with an app token, and takes the API URL and team', () => {
    expect(
      slackConfigFromEnv({
        SLACK_BOT_TOKEN: 'xoxb-1',
        SLACK_APP_TOKEN: 'xapp-1',
        SLACK_API_URL: 'http://127.0.0.1:9/api',
        SLACK_TEAM_ID: 'T1',
      }),
    ).toEqual({
      botToken: 'xoxb-1',
      appToken: 'xapp-1',
      apiUrl: 'http://127.0.0.1:9/api/',
      teamId: 'T1',
    });
  });

  it('names the missing bot token, never a value', () => {
    const attempt = () => slackConfigFromEnv({ SLACK_SIGNING_SECRET: 'very-secret-value' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/SLACK_BOT_TOKEN/);
    expect(attempt).not.toThrow(/very-secret-value/);
  });

  it('names both ways to receive when only the bot token is set', () => {
    const attempt = () => slackConfigFromEnv({ SLACK_BOT_TOKEN: 'xoxb-secret-token' });
    expect(attempt).toThrow(/SLACK_SIGNING_SECRET.*SLACK_APP_TOKEN/);
    expect(attempt).not.toThrow(/xoxb-secret-token/);
  });

  it('hands the logger every Slack secret that is set, even half configured', () => {
    expect(
      slackEnvSecrets({
        SLACK_SIGNING_SECRET: 'signing-secret-1',
        SLACK_APP_TOKEN: 'xapp-1-abcdef',
        SLACK_TEAM_ID: 'T0LIFEBOAT',
      }),
    ).toEqual(['signing-secret-1', 'xapp-1-abcdef']);
  });
});
