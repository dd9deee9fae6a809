import type {
  LlmHandler as EngineHandler,
  LlmMessage,
  LlmRequest,
  LlmResponse,
  RunOptions,
} from '@the-edge-agent/core-wasm';
import type {
  ChatMessage,
  ChatRequest,
  LlmBackend,
  LlmBridge,
  LlmHandler,
  LlmHandlerRequest,
  LlmHandlerResponse,
  ModelNeeds,
  RemoteBridge,
  routeProviders,
} from '@the-edge-agent/llm-bridge';
import type {
  CacheManifest,
  ModelCache,
  PartialChunk as CachePartialChunk,
} from '@the-edge-agent/model-cache';
import type {
  ChunkStore,
  ChunkStoreManifest,
  LockingChunkStore,
  ModelResources,
  PartialChunk,
} from '@the-edge-agent/model-loader';
import { describe, expectTypeOf, it } from 'vitest';
import type { ModelBackend } from './create-tea.js';

// The shapes two layers share without importing each other (DESIGN.md: the consumer defines the
// interface, the provider satisfies it structurally). The sdk is the one place that sees both
// sides, so it proves here that each provider still fits its consumer: drift fails the sdk's
// typecheck (this file is type-checked by `tsc`; vitest runs it as an empty test).
//
// A structural check alone misses one kind of drift: an optional field the consumer reads that
// the provider stopped writing (`{ a }` still fits `{ a; b? }`). So where the consumer has
// optional fields, the key sets are compared too.

/** Keys of `Consumer` the provider does not have (should be `never`). */
type MissingKeys<Consumer, Provider> = Exclude<keyof Consumer, keyof Provider>;

type EngineCall = Extract<LlmRequest, { kind: 'call' }>;
type EngineEmbed = Extract<LlmRequest, { kind: 'embed' }>;
type HandlerCall = Extract<LlmHandlerRequest, { kind: 'call' }>;
type HandlerEmbed = Extract<LlmHandlerRequest, { kind: 'embed' }>;

describe('engine (core-wasm) -> LLM handler (llm-bridge)', () => {
  it("the bridge's handler is an engine handler, and so is the sdk's provider routing", () => {
    expectTypeOf<LlmHandler>().toExtend<EngineHandler>();
    expectTypeOf<ReturnType<typeof routeProviders>>().toExtend<
      NonNullable<RunOptions['llmHandler']>
    >();
  });

  it('every request the engine sends is one the handler takes, and every answer one it reads', () => {
    expectTypeOf<LlmRequest>().toExtend<LlmHandlerRequest>();
    expectTypeOf<EngineCall>().toExtend<HandlerCall>();
    expectTypeOf<EngineEmbed>().toExtend<HandlerEmbed>();
    expectTypeOf<LlmHandlerResponse>().toExtend<LlmResponse>();
    expectTypeOf<LlmMessage>().toExtend<ChatMessage>();
  });

  it('every field of an engine call is known to the handler or to the chat it forwards to', () => {
    // bridgeHandler passes the call's other fields on to `bridge.chat` / `complete`.
    expectTypeOf<MissingKeys<EngineCall, HandlerCall & ChatRequest>>().toEqualTypeOf<never>();
    expectTypeOf<Pick<EngineCall, Extract<keyof EngineCall, keyof ChatRequest>>>().toExtend<
      Partial<ChatRequest>
    >();
    expectTypeOf<MissingKeys<EngineEmbed, HandlerEmbed>>().toEqualTypeOf<never>();
  });
});

describe('model figures: model-loader ModelResources -> llm-bridge ModelNeeds', () => {
  it("a manifest's or profile's resources are what the fit rule reads, every figure included", () => {
    expectTypeOf<ModelResources>().toExtend<ModelNeeds>();
    expectTypeOf<MissingKeys<ModelNeeds, ModelResources>>().toEqualTypeOf<never>();
  });
});

describe('the store: model-loader ChunkStore <- model-cache ModelCache', () => {
  it('the manifests are the same shape both ways', () => {
    expectTypeOf<ChunkStoreManifest>().toExtend<CacheManifest>();
    expectTypeOf<CacheManifest>().toExtend<ChunkStoreManifest>();
    expectTypeOf<MissingKeys<ChunkStoreManifest, CacheManifest>>().toEqualTypeOf<never>();
    expectTypeOf<MissingKeys<CacheManifest, ChunkStoreManifest>>().toEqualTypeOf<never>();
  });

  it("a cache's partial chunk is the loader's", () => {
    expectTypeOf<CachePartialChunk>().toExtend<PartialChunk>();
    expectTypeOf<PartialChunk>().toExtend<CachePartialChunk>();
  });

  it('ModelCache is a ChunkStore with every method, and the lock acquisition uses', () => {
    expectTypeOf<ModelCache>().toExtend<ChunkStore>();
    expectTypeOf<ModelCache>().toExtend<LockingChunkStore>();
    expectTypeOf<MissingKeys<ChunkStore, ModelCache>>().toEqualTypeOf<never>();
    expectTypeOf<MissingKeys<LockingChunkStore, ModelCache>>().toEqualTypeOf<never>();
  });
});

describe("a model answering requests: llm-bridge's backends -> the sdk's handle", () => {
  it('the local bridge and the remote client are both what a handle needs', () => {
    expectTypeOf<LlmBridge>().toExtend<LlmBackend>();
    expectTypeOf<RemoteBridge>().toExtend<LlmBackend>();
    expectTypeOf<LlmBackend>().toExtend<ModelBackend>();
  });
});
