import nock from "nock";

// No test may reach the internet; the servers tests start on loopback stay reachable.
nock.disableNetConnect();
nock.enableNetConnect(/^(127\.0\.0\.1|localhost)(:\d+)?$/);

afterEach(() => {
  nock.cleanAll();
});

// Each test file loads its own nock, which patches Node's shared http module. Left in place, the
// previous file's interceptor stays reachable from it, with everything that file loaded, and Jest
// warns (JEST-01) whenever it is touched after the file's globals were cleaned up.
afterAll(() => {
  nock.restore();
});
