package sluice.oracle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;

/**
 * Reads one JSON object per line, {"id":..,"reader":"<schema json>","writer":"<schema json>"}, and
 * prints one per line, {"id":..,"compatible":bool,"types":[..],"locations":[..],"messages":[..]},
 * from SchemaCompatibility.checkReaderWriterCompatibility. Each schema is parsed with a fresh
 * Schema.Parser (default validation, defaults included), as Confluent's registry parses them.
 * A schema Avro refuses gives {"id":..,"parseError":"reader: ..."}; an exception from the checker
 * gives compatible=false with the single type "EXCEPTION" (Confluent reports it as incompatible).
 */
public final class Oracle {
  public static void main(String[] args) throws Exception {
    ObjectMapper json = new ObjectMapper();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    BufferedWriter out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      if (line.isBlank()) continue;
      JsonNode req = json.readTree(line);
      ObjectNode res = json.createObjectNode();
      res.set("id", req.get("id"));
      Schema reader;
      Schema writer;
      try {
        reader = new Schema.Parser().parse(req.get("reader").asText());
      } catch (Exception e) {
        res.put("parseError", "reader: " + e);
        emit(out, json, res);
        continue;
      }
      try {
        writer = new Schema.Parser().parse(req.get("writer").asText());
      } catch (Exception e) {
        res.put("parseError", "writer: " + e);
        emit(out, json, res);
        continue;
      }
      ArrayNode types = res.putArray("types");
      ArrayNode locations = res.putArray("locations");
      ArrayNode messages = res.putArray("messages");
      try {
        SchemaCompatibility.SchemaPairCompatibility pair =
            SchemaCompatibility.checkReaderWriterCompatibility(reader, writer);
        res.put("compatible", pair.getType() == SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE);
        for (SchemaCompatibility.Incompatibility inc : pair.getResult().getIncompatibilities()) {
          types.add(inc.getType().name());
          locations.add(inc.getLocation());
          messages.add(inc.getMessage());
        }
      } catch (Exception e) {
        res.put("compatible", false);
        types.add("EXCEPTION");
        locations.add("");
        messages.add(String.valueOf(e.getMessage()));
      }
      emit(out, json, res);
    }
    out.flush();
  }

  private static void emit(BufferedWriter out, ObjectMapper json, ObjectNode res) throws Exception {
    out.write(json.writeValueAsString(res));
    out.write('\n');
  }
}
