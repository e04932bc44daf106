import type { ProbotOctokit } from "probot";

export interface HookDelivery {
  id: number;
  guid: string;
  delivered_at: string;
  redelivery: boolean;
  status: string;
  status_code: number;
  event: string;
  action: string | null;
  installation_id: number | null;
}

/**
 * The app's webhook deliveries, newest first, page by page (cursor pagination via Link headers),
 * until `stop` says the rest is older than needed.
 */
export async function listHookDeliveries(
  appOctokit: ProbotOctokit,
  stop: (delivery: HookDelivery) => boolean,
): Promise<HookDelivery[]> {
  const all: HookDelivery[] = [];
  for await (const { data } of appOctokit.paginate.iterator("GET /app/hook/deliveries", { per_page: 100 })) {
    for (const delivery of data as unknown as HookDelivery[]) {
      if (stop(delivery)) return all;
      all.push(delivery);
    }
  }
  return all;
}

export async function requestRedelivery(appOctokit: ProbotOctokit, deliveryId: number): Promise<void> {
  await appOctokit.request("POST /app/hook/deliveries/{delivery_id}/attempts", { delivery_id: deliveryId });
}
