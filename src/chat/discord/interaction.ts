import { z } from 'zod';

/**
 * The parts of a Discord interaction the adapter reads, checked with zod: whatever else
 * Discord sends passes through untouched, and a payload without these is refused as malformed.
 */
const snowflake = z.string().regex(/^\d{1,25}$/);

const user = z.object({ id: snowflake, username: z.string().optional() }).loose();

const option: z.ZodType<InteractionOptionData> = z.lazy(() =>
  z
    .object({
      name: z.string().min(1).max(32),
      type: z.number().int(),
      value: z.union([z.string(), z.number(), z.boolean()]).optional(),
      options: z.array(option).max(25).optional(),
      focused: z.boolean().optional(),
    })
    .loose(),
);

interface InteractionOptionData {
  name: string;
  type: number;
  value?: string | number | boolean | undefined;
  options?: InteractionOptionData[] | undefined;
  focused?: boolean | undefined;
}

const component = z
  .object({ type: z.number(), custom_id: z.string().optional(), style: z.number().optional() })
  .loose();

export const interactionSchema = z
  .object({
    id: snowflake,
    application_id: snowflake,
    type: z.number().int(),
    token: z.string().min(1).max(500),
    guild_id: snowflake.optional(),
    channel_id: snowflake.optional(),
    channel: z
      .object({ id: snowflake, type: z.number(), parent_id: snowflake.nullish() })
      .loose()
      .optional(),
    member: z.object({ user }).loose().optional(),
    user: user.optional(),
    data: z
      .object({
        name: z.string().min(1).max(32).optional(),
        options: z.array(option).max(25).optional(),
        custom_id: z.string().min(1).max(100).optional(),
      })
      .loose()
      .optional(),
    message: z
      .object({
        id: snowflake,
        channel_id: snowflake.optional(),
        flags: z.number().optional(),
        embeds: z.array(z.object({ url: z.string().optional() }).loose()).optional(),
        components: z
          .array(z.object({ components: z.array(component).optional() }).loose())
          .optional(),
      })
      .loose()
      .optional(),
  })
  .loose();

/** An interaction as the adapter reads it. */
export type Interaction = z.infer<typeof interactionSchema>;

/** Discord's interaction types. */
export const InteractionType = {
  Ping: 1,
  ApplicationCommand: 2,
  MessageComponent: 3,
  Autocomplete: 4,
  ModalSubmit: 5,
} as const;

/** Discord's interaction callback types. */
export const CallbackType = {
  Pong: 1,
  ChannelMessage: 4,
  DeferredChannelMessage: 5,
  DeferredUpdateMessage: 6,
  UpdateMessage: 7,
  AutocompleteResult: 8,
} as const;

/** A first answer to an interaction: the body of the callback (or of the HTTP response). */
export interface InteractionCallback {
  readonly type: number;
  readonly data?: object;
}
