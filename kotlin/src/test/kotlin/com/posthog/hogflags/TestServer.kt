package com.posthog.hogflags

import java.io.File
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse

/**
 * The repository's PostHog-compatible test server (tests/server) as a child process on 127.0.0.1 with the
 * basic fixture. Binary: `-Dhogflags.testServer` (set by the pom: target/release/hogflags-test-server).
 */
class TestServer : AutoCloseable {
    companion object {
        const val PROJECT_KEY = "phc_test_project_key"
        const val SECRET_KEY = "phs_test_secret_key"
        val repository = File(System.getProperty("hogflags.repository") ?: "..")
        private val http: HttpClient = HttpClient.newHttpClient()
    }

    private val process: Process
    val url: String

    init {
        val binary = System.getProperty("hogflags.testServer") ?: "${repository.path}/target/release/hogflags-test-server"
        process = ProcessBuilder(
            binary, "--definitions", File(repository, "tests/server/fixtures/basic.json").path, "--exit-on-stdin-eof",
        ).redirectError(ProcessBuilder.Redirect.INHERIT).start()
        val line = process.inputStream.bufferedReader().readLine() ?: error("the test server printed nothing")
        url = line.substring(line.indexOf("http://"))
    }

    /** POST to the control API; returns the body. */
    fun control(path: String, body: String = "{}"): String {
        val request = HttpRequest.newBuilder(URI.create(url + path))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body)).build()
        val response = http.send(request, HttpResponse.BodyHandlers.ofString())
        check(response.statusCode() < 300) { "$path answered ${response.statusCode()}" }
        return response.body()
    }

    /** The server's counters and the last `/flags` body, as JSON text (`GET /_control/stats`). */
    fun stats(): String {
        val request = HttpRequest.newBuilder(URI.create("$url/_control/stats")).GET().build()
        return http.send(request, HttpResponse.BodyHandlers.ofString()).body()
    }

    override fun close() {
        process.outputStream.close()
        process.waitFor()
    }
}
