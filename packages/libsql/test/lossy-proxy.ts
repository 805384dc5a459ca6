import { connect, createServer, type Socket } from "node:net";

/** A TCP proxy in front of a server that can lose the server's next answer. */
export interface LossyProxy {
  /** The proxy's port on 127.0.0.1. */
  readonly port: number;
  /**
   * Forwards the next request as usual, but instead of its answer the client sees its connection
   * close: the request applied, its response lost. Resolves once that happened.
   */
  loseNextResponse(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a {@link LossyProxy} to `127.0.0.1:targetPort`. */
export async function startLossyProxy(targetPort: number): Promise<LossyProxy> {
  const sockets = new Set<Socket>();
  let lose: (() => void) | undefined;
  const server = createServer((client) => {
    const upstream = connect(targetPort, "127.0.0.1");
    sockets.add(client).add(upstream);
    client.on("data", (chunk) => upstream.write(chunk));
    upstream.on("data", (chunk) => {
      const lost = lose;
      if (lost === undefined) {
        client.write(chunk);
        return;
      }
      lose = undefined;
      client.destroy();
      upstream.destroy();
      lost();
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no proxy address");
  return {
    port: address.port,
    loseNextResponse: () =>
      new Promise<void>((resolve) => {
        lose = resolve;
      }),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
