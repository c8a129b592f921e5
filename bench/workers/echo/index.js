// Parses a JSON body and sends it back re-serialised: the work of a typical JSON API.
export default {
  async fetch(request) {
    const data = await request.json();
    return Response.json(data);
  },
};
