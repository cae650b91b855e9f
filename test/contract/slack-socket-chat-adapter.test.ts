import { slackHarness } from '../support/fake-slack-harness.ts';
import { describeChatAdapterContract } from './chat-adapter.contract.ts';

describeChatAdapterContract('Slack over Socket Mode', () => slackHarness('socket'));
