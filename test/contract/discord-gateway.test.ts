import { startDiscordHarness } from '../support/fake-discord-harness.ts';
import { describeChatAdapterContract } from './chat-adapter.contract.ts';

describeChatAdapterContract('discord (gateway)', async () => {
  const harness = await startDiscordHarness({ mode: 'gateway' });
  return { ...harness, channel: { channel: harness.fake.channelId } };
});
