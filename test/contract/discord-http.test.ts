import { startDiscordHarness } from '../support/fake-discord-harness.ts';
import { describeChatAdapterContract } from './chat-adapter.contract.ts';

describeChatAdapterContract('discord (HTTP interactions)', async () => {
  const harness = await startDiscordHarness({ mode: 'http' });
  return { ...harness, channel: { channel: harness.fake.channelId } };
});
