// The map under the nodes: Leaflet, with OpenStreetMap tiles around the
// scenario's origin when the browser is online, and a plain projected
// background (a metre grid) when tiles cannot load or the trace records no
// origin. Scenario coordinates are metres east/north of the origin; the view
// projects them through Leaflet, so panning and zooming move the drawing too.

import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import type { View } from './render.js';

export type BasemapState = 'tiles' | 'offline' | 'no-origin' | 'off';

const METRES_PER_DEGREE = 111_320;
const TILES = 'https://tile.openstreetmap.org/{z}/{x}/{y}.png';
const ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors';

export interface Origin {
  lat: number;
  lon: number;
}

export class Basemap {
  readonly map: L.Map;
  state: BasemapState = 'no-origin';
  private origin: Origin = { lat: 0, lon: 0 };
  private tiles: L.TileLayer | null = null;

  /** `tilesAllowed` false never requests a tile (the page's ?tiles=off). */
  constructor(container: HTMLElement, private readonly tilesAllowed: boolean, private readonly onState: (s: BasemapState) => void) {
    this.map = L.map(container, { zoomControl: false, attributionControl: true, zoomSnap: 0.25, maxZoom: 19, minZoom: 1 });
    L.control.zoom({ position: 'topright' }).addTo(this.map); // the clock sits top left
    this.map.setView([0, 0], 14);
    this.setState(tilesAllowed ? 'no-origin' : 'off');
  }

  private setState(s: BasemapState): void {
    this.state = s;
    this.onState(s);
  }

  /** Where the scenario's (0, 0) is on Earth; null when the source does not say. */
  setOrigin(origin: Origin | null): void {
    this.tiles?.remove();
    this.tiles = null;
    this.origin = origin ?? { lat: 0, lon: 0 };
    if (!origin) {
      this.setState(this.tilesAllowed ? 'no-origin' : 'off');
      return;
    }
    if (!this.tilesAllowed) return;
    const layer = L.tileLayer(TILES, { attribution: ATTRIBUTION, maxZoom: 19, crossOrigin: true });
    // The first tile that fails (offline, blocked) turns tiles off for this run: the plain background stays.
    layer.once('tileerror', () => {
      if (this.tiles !== layer) return;
      layer.remove();
      this.tiles = null;
      this.setState('offline');
    });
    layer.once('tileload', () => {
      if (this.tiles === layer) this.setState('tiles');
    });
    this.tiles = layer;
    layer.addTo(this.map);
  }

  toLatLng(x: number, y: number): L.LatLng {
    const lat = this.origin.lat + y / METRES_PER_DEGREE;
    const lon = this.origin.lon + x / (METRES_PER_DEGREE * Math.cos((this.origin.lat * Math.PI) / 180));
    return L.latLng(lat, lon);
  }

  /** Frames the given points (scenario metres) with room for labels and the clock. */
  fit(points: [number, number][]): void {
    if (!points.length) return;
    const bounds = L.latLngBounds(points.map(([x, y]) => this.toLatLng(x, y)));
    this.map.invalidateSize();
    this.map.fitBounds(bounds.pad(0.05), { paddingTopLeft: [24, 56], paddingBottomRight: [60, 36], animate: false, maxZoom: 18 });
  }

  /** The current projection, for drawing on a canvas that covers the map. */
  view(): View {
    const map = this.map;
    const a = map.latLngToContainerPoint(this.toLatLng(0, 0));
    const b = map.latLngToContainerPoint(this.toLatLng(1000, 0));
    return {
      scale: Math.max(1e-9, (b.x - a.x) / 1000),
      toScreen: (x, y) => {
        const p = map.latLngToContainerPoint(this.toLatLng(x, y));
        return [p.x, p.y];
      },
    };
  }
}
