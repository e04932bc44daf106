import { connect, Socket } from "node:net";

export interface RawAnswer {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: unknown;
}

export interface OpenRequest {
  /** The server's answer, whenever it comes: before the body is complete, if the server does not wait for it. */
  answer: Promise<RawAnswer>;
  /** More of the body (a chunk of its own when the request is chunked). */
  write(data: Buffer | string): void;
  /** The end of a chunked body. */
  end(): void;
  /** Drops the connection, as a client that gives up. */
  close(): void;
}

/**
 * An HTTP/1.1 request over a bare socket (no fetch, no nock interceptor buffering the body): the
 * head, then as much of the body as the test writes. With `Content-Length` in `headers` the body
 * is raw bytes, without it chunked. What a server answers before a body is complete shows it did
 * not wait to read that body.
 */
export function openRequest(url: string, method: string, path: string, headers: Record<string, string>, first?: Buffer | string): OpenRequest {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const chunked = !Object.keys(headers).some((name) => name.toLowerCase() === "content-length");
  const head = [`${method} ${path} HTTP/1.1`, `host: ${hostname}:${port}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  if (chunked) head.push("transfer-encoding: chunked");
  socket.write(`${head.join("\r\n")}\r\n\r\n`);
  const write = (data: Buffer | string) => {
    if (socket.destroyed) return;
    if (!chunked) socket.write(data);
    else if (data.length > 0) socket.write(Buffer.concat([Buffer.from(`${Buffer.byteLength(data).toString(16)}\r\n`), Buffer.from(data), Buffer.from("\r\n")]));
  };
  if (first !== undefined) write(first);
  const answer = readAnswer(socket);
  // A test that drops the connection without awaiting the answer has nothing to learn from its failure.
  answer.catch(() => undefined);
  return {
    answer,
    write,
    end: () => void (socket.destroyed || socket.write("0\r\n\r\n")),
    close: () => void socket.destroy(),
  };
}

/** Resolves with `promise`'s value, or "pending" if it has not settled within `ms`. */
export function within<T>(promise: Promise<T>, ms: number): Promise<T | "pending"> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"pending">((resolve) => {
    timer = setTimeout(() => resolve("pending"), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The first response on the socket: a status line, headers and a Content-Length body (the server's JSON answers have one). */
function readAnswer(socket: Socket): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf("\r\n\r\n");
      if (end === -1) return;
      const [statusLine, ...lines] = received.subarray(0, end).toString("latin1").split("\r\n");
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(":")).trim().toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]));
      const length = Number(headers["content-length"] ?? 0);
      const body = received.subarray(end + 4);
      if (body.length < length) return;
      const text = body.subarray(0, length).toString("utf8");
      resolve({ status: Number(statusLine.split(" ")[1]), headers, body: /json/.test(headers["content-type"] ?? "") ? JSON.parse(text) : text });
    });
    socket.on("error", reject);
    socket.on("close", () => reject(new Error("the connection closed before an answer")));
  });
}
